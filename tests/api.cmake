# Public-API tests (optimizers, bad input, allocation, training, params).
dfsae_add_test(test_optim SOURCES test_optim.c)
dfsae_add_test(test_api_errors SOURCES test_api_errors.c)
