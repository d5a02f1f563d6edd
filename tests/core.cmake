# White-box tests of the lead's core kernels.
dfsae_add_test(test_fastexp SOURCES test_fastexp.c INTERNAL)
dfsae_add_test(test_step_bounds SOURCES test_step_bounds.c INTERNAL)
dfsae_add_test(test_pool SOURCES test_pool.c INTERNAL)
set_tests_properties(test_pool PROPERTIES LABELS threads)
