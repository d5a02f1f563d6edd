# Public-API tests (optimizers, bad input, allocation, training, params).
dfsae_add_test(test_optim SOURCES test_optim.c)
