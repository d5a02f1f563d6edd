# The data readers, the `dfsae` tool and the Fashion-MNIST example
# (examples/data, examples/tool, examples/fashion_mnist).

# libFuzzer targets, one per reader (cmake -DCMAKE_C_COMPILER=clang
# -DDFSAE_FUZZ=ON; the option is shared with tests/io.cmake). The reader
# sources are compiled into each target with coverage instrumentation, so
# they do not need the examples to be built. Run by
# .ci/steps/40-readers-fuzz.sh.
option(DFSAE_FUZZ "Build the libFuzzer targets (clang)" OFF)
if(DFSAE_FUZZ)
  find_package(ZLIB REQUIRED)
  set(_rd ${PROJECT_SOURCE_DIR}/examples/data)
  foreach(_fmt idx npy csv)
    add_executable(dfsae_fuzz_reader_${_fmt} fuzz/fuzz_reader.c
      ${_rd}/common.c ${_rd}/limits.c ${_rd}/read_file.c ${_rd}/gzip.c
      ${_rd}/idx.c ${_rd}/npy.c ${_rd}/csv.c)
    string(TOUPPER ${_fmt} _FMT)
    target_compile_definitions(dfsae_fuzz_reader_${_fmt} PRIVATE
      FUZZ_FORMAT=EXDATA_${_FMT} FUZZ_NAME="fuzz.${_fmt}")
    target_include_directories(dfsae_fuzz_reader_${_fmt} PRIVATE ${_rd})
    target_compile_options(dfsae_fuzz_reader_${_fmt} PRIVATE
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer -g -O1)
    target_link_options(dfsae_fuzz_reader_${_fmt} PRIVATE
      -fsanitize=fuzzer,address,undefined)
    target_link_libraries(dfsae_fuzz_reader_${_fmt} PRIVATE ZLIB::ZLIB m)
    dfsae_set_warnings(dfsae_fuzz_reader_${_fmt})
  endforeach()
endif()

# Everything below is built with the examples.
if(NOT DFSAE_BUILD_EXAMPLES)
  return()
endif()

dfsae_add_test(test_readers SOURCES test_readers.c LIBS exdata)
dfsae_add_test(test_readers_limits SOURCES test_readers_limits.c LIBS exdata)

# The fuzz seed corpus parses cleanly in every build (and under the
# sanitizer configuration): a regression input added there stays tested.
dfsae_add_test(test_readers_corpus SOURCES test_readers_corpus.c LIBS exdata)
target_compile_definitions(test_readers_corpus PRIVATE
  READERS_CORPUS_DIR="${CMAKE_CURRENT_SOURCE_DIR}/cli/corpus")

# The tool end to end on small fixtures: train (and Ctrl-C), resume,
# encode, eval, info, show, --help and the error paths.
add_executable(dfsae_png_check cli/png_check.c)
target_link_libraries(dfsae_png_check PRIVATE exdata)
dfsae_set_warnings(dfsae_png_check)
add_test(NAME test_cli_tool
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tool_test.sh
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures
          $<TARGET_FILE:dfsae_png_check>)
# The tool's hostile-input checks, one script per fault (issue 14).
# --resume from the file alone, across an interrupt.
add_test(NAME test_cli_resume
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/resume_test.sh
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures
          ${CMAKE_CURRENT_SOURCE_DIR}/io/fixtures/format1-adam.safetensors)
# A model trained with --scale or --standardize encodes raw inputs from C
# as a plain model encodes the scaled ones.
add_executable(dfsae_host_encode cli/host_encode.c)
target_link_libraries(dfsae_host_encode PRIVATE dfsae::dfsae exdata m)
dfsae_set_warnings(dfsae_host_encode)
add_test(NAME test_cli_transform
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/transform_test.sh
          $<TARGET_FILE:dfsae_tool> $<TARGET_FILE:dfsae_host_encode>)
add_test(NAME test_cli_show_size
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/show_size.sh
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures
          $<TARGET_FILE:dfsae_png_check>)
add_test(NAME test_cli_memory_limit
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/memory_limit.sh
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures)
add_test(NAME test_cli_output_files
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/output_files.sh
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures)
# A tool that opened a FIFO for writing would wait forever.
set_tests_properties(test_cli_output_files PROPERTIES TIMEOUT 120)
add_test(NAME test_cli_progress_width
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/progress_width.py
          $<TARGET_FILE:dfsae_tool> ${CMAKE_CURRENT_SOURCE_DIR}/cli/fixtures)
set_tests_properties(test_cli_progress_width PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME test_cli_eval_memory
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/eval_memory.sh $<TARGET_FILE:dfsae_tool>)

# The README's main job, shortened: 2 epochs on 10000 images. Needs the
# Debian package dataset-fashion-mnist; without it the test reports
# "skipped" (exit 77), never "passed". CI installs it (41-fashion-smoke).
# (examples/ is configured after tests/: look for liblinear the same way
# examples/fashion_mnist does, instead of testing for its target.)
find_path(DFSAE_LIBLINEAR_INCLUDE_DIR linear.h PATH_SUFFIXES liblinear)
find_library(DFSAE_LIBLINEAR_LIBRARY NAMES linear)
if(DFSAE_LIBLINEAR_INCLUDE_DIR AND DFSAE_LIBLINEAR_LIBRARY)
  add_test(NAME test_fashion_smoke
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/fashion_smoke.sh
            $<TARGET_FILE:fashion_mnist> $<TARGET_FILE:dfsae_png_check>)
  set_tests_properties(test_fashion_smoke PROPERTIES SKIP_RETURN_CODE 77
    LABELS example TIMEOUT 900)
endif()
# Memory-mapped .npy inputs (--mmap); needs Debian's python3-numpy.
add_test(NAME test_cli_mmap
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/mmap_test.sh $<TARGET_FILE:dfsae_tool>)
set_tests_properties(test_cli_mmap PROPERTIES SKIP_RETURN_CODE 77)
# bfloat16 .npy (--dtype bf16) and safetensors BF16 inputs.
add_test(NAME test_cli_mmap_bf16
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/mmap_bf16_test.sh $<TARGET_FILE:dfsae_tool>)
set_tests_properties(test_cli_mmap_bf16 PROPERTIES SKIP_RETURN_CODE 77)
# Memory-mapped safetensors inputs, alone and as shards beside .npy files.
add_test(NAME test_cli_mmap_safetensors
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/mmap_safetensors_test.sh $<TARGET_FILE:dfsae_tool>)
set_tests_properties(test_cli_mmap_safetensors PROPERTIES SKIP_RETURN_CODE 77)
