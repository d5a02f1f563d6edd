# Area "data": data sources for training, evaluation and encoding
# (src/data): half-precision conversion, array and callback sources, the
# epoch orders.
dfsae_add_test(test_half SOURCES test_half.c INTERNAL)
dfsae_add_test(test_source SOURCES test_source.c)
dfsae_add_test(test_rows_check SOURCES test_rows_check.c INTERNAL)
dfsae_add_test(test_prefetch SOURCES test_prefetch.c)
set_tests_properties(test_prefetch PROPERTIES LABELS threads)
dfsae_add_test(test_prefetch_policy SOURCES test_prefetch_policy.c INTERNAL)
set_tests_properties(test_prefetch_policy PROPERTIES LABELS threads)
dfsae_add_test(test_parallel_reads SOURCES test_parallel_reads.c)
set_tests_properties(test_parallel_reads PROPERTIES LABELS threads)
dfsae_add_test(test_fetch_policy SOURCES test_fetch_policy.c)
set_tests_properties(test_fetch_policy PROPERTIES LABELS threads)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  dfsae_add_test(test_helper SOURCES test_helper.c INTERNAL)
  set_tests_properties(test_helper PROPERTIES LABELS threads)
endif()
