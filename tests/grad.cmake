# Area "grad": finite-difference gradient checks and loss-value tests.
# The checker and the double-precision reference live in tests/support/grad*.c.
dfsae_add_test(test_gradcheck_self SOURCES test_gradcheck_self.c)
# INTERNAL: the identity dL/dA = softmax(-A) calls the term's eval.
dfsae_add_test(test_loss_lse SOURCES test_loss_lse.c INTERNAL)
# INTERNAL: the term table and the Gram side the core reads from it.
dfsae_add_test(test_loss_table SOURCES test_loss_table.c INTERNAL)
dfsae_add_test(test_loss_var SOURCES test_loss_var.c)
dfsae_add_test(test_loss_var_cap SOURCES test_loss_var_cap.c)
dfsae_add_test(test_loss_tc SOURCES test_loss_tc.c)
dfsae_add_test(test_loss_wr SOURCES test_loss_wr.c)
dfsae_add_test(test_loss_wr_unnormalised SOURCES test_loss_wr_unnormalised.c)
dfsae_add_test(test_activation SOURCES test_activation.c)
dfsae_add_test(test_softmax SOURCES test_softmax.c)
dfsae_add_test(test_objective_grad SOURCES test_objective_grad.c)
dfsae_add_test(test_transform SOURCES test_transform.c)
