# Area "train": the training loop, evaluation metrics and dataset encoding
# (src/train), through the public API.
dfsae_add_test(test_train SOURCES test_train.c)
dfsae_add_test(test_eval SOURCES test_eval.c)
dfsae_add_test(test_converge SOURCES test_converge.c)
dfsae_add_test(test_max_row_norm SOURCES test_max_row_norm.c)
