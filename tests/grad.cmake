# Area "grad": finite-difference gradient checks and loss-value tests.
# The checker and the SPEC reference live in tests/support/grad*.c.
dfsae_add_test(test_gradcheck_self SOURCES test_gradcheck_self.c)
