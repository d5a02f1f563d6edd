# The data readers, the `dfsae` tool and the Fashion-MNIST example
# (examples/data, examples/tool, examples/fashion_mnist): they are built
# with the examples, so their tests need DFSAE_BUILD_EXAMPLES.
if(NOT DFSAE_BUILD_EXAMPLES)
  return()
endif()

dfsae_add_test(test_readers SOURCES test_readers.c LIBS dfsae_data)
