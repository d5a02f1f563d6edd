# Model files (issue 3): round trips, hostile input, atomic saves, resume in
# a fresh process, Python interop, and the libFuzzer target.
dfsae_add_test(test_io_roundtrip SOURCES test_io_roundtrip.c)
dfsae_add_test(test_io_hostile SOURCES test_io_hostile.c)
dfsae_add_test(test_io_atomic SOURCES test_io_atomic.c INTERNAL LIBS cjson)
dfsae_add_test(test_io_resume SOURCES test_io_resume.c)
