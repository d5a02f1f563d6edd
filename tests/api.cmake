# Public-API tests (optimizers, bad input, allocation, training, params).
dfsae_add_test(test_optim SOURCES test_optim.c)
dfsae_add_test(test_api_errors SOURCES test_api_errors.c)
dfsae_add_test(test_params SOURCES test_params.c)
dfsae_add_test(test_no_alloc SOURCES test_no_alloc.c)
dfsae_add_test(test_training SOURCES test_training.c)
dfsae_add_test(test_threads SOURCES test_threads.c INTERNAL)
dfsae_add_test(test_forward SOURCES test_forward.c LIBS Threads::Threads)
dfsae_add_test(test_forward_small SOURCES test_forward_small.c INTERNAL)
dfsae_add_test(test_forward_checks SOURCES test_forward_checks.c)
dfsae_add_test(test_forward_small_stream SOURCES test_forward_small_stream.c INTERNAL)
# The tests that run threads; CI's ThreadSanitizer build runs these.
set_tests_properties(test_forward test_threads PROPERTIES LABELS threads)
