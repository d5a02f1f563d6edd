# Model files (issue 3): round trips, hostile input, atomic saves, resume in
# a fresh process, Python interop, and the libFuzzer target.
dfsae_add_test(test_io_roundtrip SOURCES test_io_roundtrip.c)
target_compile_definitions(test_io_roundtrip PRIVATE
  IO_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/io/fixtures")
dfsae_add_test(test_io_hostile SOURCES test_io_hostile.c)
dfsae_add_test(test_io_atomic SOURCES test_io_atomic.c INTERNAL)
dfsae_add_test(test_io_resume SOURCES test_io_resume.c)

# The interop helper (also writes the fuzz seed corpus: io_tool seeds DIR).
add_executable(io_tool io/io_tool.c)
target_link_libraries(io_tool PRIVATE dfsae::dfsae m)
dfsae_set_warnings(io_tool)

# Python interop needs python3 with numpy. The first python3 on PATH may be
# a separate install without Debian's numpy, so try it and /usr/bin's.
set(DFSAE_IO_PYTHON "" CACHE STRING "python3 with numpy for the interop test")
if(NOT DFSAE_IO_PYTHON)
  find_program(_io_path_python python3)
  foreach(_py ${_io_path_python} /usr/bin/python3)
    if(EXISTS "${_py}")
      execute_process(COMMAND "${_py}" -c "import numpy"
        RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
      if(_rc EQUAL 0)
        set(DFSAE_IO_PYTHON "${_py}" CACHE STRING "" FORCE)
        break()
      endif()
    endif()
  endforeach()
endif()
if(DFSAE_IO_PYTHON)
  add_test(NAME test_io_interop
    COMMAND "${DFSAE_IO_PYTHON}" "${CMAKE_CURRENT_SOURCE_DIR}/io/interop.py"
            $<TARGET_FILE:io_tool> "${CMAKE_CURRENT_BINARY_DIR}/io_interop")
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "CI needs python3 with numpy for test_io_interop (apt-get install python3-numpy)")
else()
  message(WARNING "python3 with numpy not found: test_io_interop not registered")
endif()

# Every committed seed and regression input goes through the loader in the
# normal suite too (ASan/UBSan in CI's sanitizer configuration).
dfsae_add_test(test_io_corpus SOURCES test_io_corpus.c)
target_compile_definitions(test_io_corpus PRIVATE
  IO_CORPUS_DIRS="${CMAKE_CURRENT_SOURCE_DIR}/io/corpus:${CMAKE_CURRENT_SOURCE_DIR}/io/regress")

# libFuzzer target: cmake -DCMAKE_C_COMPILER=clang -DDFSAE_FUZZ=ON, then
# build dfsae_fuzz_load. The library is compiled again with coverage
# instrumentation and the sanitizers.
option(DFSAE_FUZZ "Build the libFuzzer target for the model-file loader (clang)" OFF)
if(DFSAE_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DFSAE_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  list(TRANSFORM DFSAE_SOURCES PREPEND "${PROJECT_SOURCE_DIR}/" OUTPUT_VARIABLE _io_fuzz_sources)
  set(_io_fuzz_flags -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
  add_library(dfsae_fuzz_objects OBJECT ${_io_fuzz_sources})
  target_include_directories(dfsae_fuzz_objects PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(dfsae_fuzz_objects PRIVATE ${_io_fuzz_flags})
  target_link_libraries(dfsae_fuzz_objects PUBLIC dfsae_blas Threads::Threads)
  add_executable(dfsae_fuzz_load fuzz/fuzz_load.c)
  target_include_directories(dfsae_fuzz_load PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(dfsae_fuzz_load PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1)
  target_link_options(dfsae_fuzz_load PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(dfsae_fuzz_load PRIVATE dfsae_fuzz_objects)
  dfsae_set_warnings(dfsae_fuzz_load)
  # The property fuzzer: accepted files through steps, training,
  # evaluation and forward (.ci/steps/30-io-fuzz.sh).
  add_executable(dfsae_fuzz_train fuzz/fuzz_train.c)
  target_include_directories(dfsae_fuzz_train PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(dfsae_fuzz_train PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1)
  target_link_options(dfsae_fuzz_train PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(dfsae_fuzz_train PRIVATE dfsae_fuzz_objects m)
  dfsae_set_warnings(dfsae_fuzz_train)
endif()

# Optimizer state in checkpoints: domain and consistency on load and save,
# and the step's guarantee whatever state it holds (issue 14).
dfsae_add_test(test_optim_state SOURCES test_optim_state.c INTERNAL)

# Loads under allocation failure (the JSON parser included), the strict
# JSON parser itself, and what a save or load meets on the file system
# (FIFOs, crashes, limits, names).
dfsae_add_test(test_io_oom SOURCES test_io_oom.c)
dfsae_add_test(test_io_json SOURCES test_io_json.c INTERNAL)
dfsae_add_test(test_io_files SOURCES test_io_files.c INTERNAL)

# The property fuzzer's harness (tests/fuzz/fuzz_train.c) replayed on its
# committed seeds and regression inputs in every build; the seeds are
# written by fuzz_train_seeds DIR.
add_executable(test_fuzz_train_corpus fuzz/replay.c fuzz/fuzz_train.c)
target_link_libraries(test_fuzz_train_corpus PRIVATE dfsae::dfsae m)
dfsae_set_warnings(test_fuzz_train_corpus)
add_test(NAME test_fuzz_train_corpus
  COMMAND test_fuzz_train_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/train)
add_executable(fuzz_train_seeds fuzz/train_seeds.c)
target_link_libraries(fuzz_train_seeds PRIVATE dfsae::dfsae)
dfsae_set_warnings(fuzz_train_seeds)
