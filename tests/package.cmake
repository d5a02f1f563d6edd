# Packaging tests: the ABI of the shared library, and the installed package
# used by outside projects (CMake, pkg-config, static, C++, the examples,
# the README's example). Labelled "package"; the scripts are in package/.
set(_pkg_dir "${CMAKE_CURRENT_SOURCE_DIR}/package")
set(_pkg_work "${CMAKE_CURRENT_BINARY_DIR}/package-test")
set(_pkg_prefix "${_pkg_work}/prefix")
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_pkg_soname "libdfsae.so.${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
else()
  set(_pkg_soname "libdfsae.so.${PROJECT_VERSION_MAJOR}")
endif()

# Programs built by the tests get the flags the library was built with, so a
# sanitizer build links its runtime into them too.
set(_pkg_flags "")
if(DFSAE_SANITIZE)
  set(_pkg_flags "-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
find_program(DFSAE_PKG_CONFIG NAMES pkg-config pkgconf)
# The C++ compiler of the C compiler's family (sanitizer runtimes must match).
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  string(REGEX MATCH "^[0-9]+" _pkg_clang_major "${CMAKE_C_COMPILER_VERSION}")
  find_program(DFSAE_TEST_CXX NAMES clang++-${_pkg_clang_major} clang++)
else()
  find_program(DFSAE_TEST_CXX NAMES g++ c++)
endif()
if(NOT DFSAE_TEST_CXX)
  set(DFSAE_TEST_CXX "")
endif()

# The headers experimental as a whole, one argument (the list's ; escaped).
set(_pkg_inc "${PROJECT_SOURCE_DIR}/include")
set(_pkg_experimental "${_pkg_inc}/dfsae_experimental.h$<SEMICOLON>${_pkg_inc}/dfsae_dist.h")

if(TARGET dfsae_shared)
  add_test(NAME test_abi_symbols COMMAND ${CMAKE_COMMAND}
    -DLIB=$<TARGET_FILE:dfsae_shared> -DHEADER=${PROJECT_SOURCE_DIR}/include/dfsae.h
    -DEXPERIMENTAL_HEADER=${_pkg_experimental}
    -DNM=${CMAKE_NM} -DOBJDUMP=${CMAKE_OBJDUMP} -DSONAME=${_pkg_soname}
    -P ${_pkg_dir}/check_abi.cmake)

  # The checker must catch each kind of fault in a library built to have them.
  add_library(dfsae_abi_fixture SHARED package/abi_fixture.c)
  set_target_properties(dfsae_abi_fixture PROPERTIES C_VISIBILITY_PRESET hidden)
  dfsae_set_warnings(dfsae_abi_fixture)
  add_test(NAME test_abi_symbols_selftest COMMAND ${CMAKE_COMMAND}
    -DLIB=$<TARGET_FILE:dfsae_abi_fixture> -DHEADER=${_pkg_dir}/abi_fixture.h
    -DNM=${CMAKE_NM} -DOBJDUMP=${CMAKE_OBJDUMP}
    -P ${_pkg_dir}/check_abi_selftest.cmake)
  set_tests_properties(test_abi_symbols test_abi_symbols_selftest PROPERTIES LABELS package)
endif()

# The ABI against the committed baseline (abi/libdfsae.abi; the policy
# starts at 1.0: a release of the same major only adds). Needs abidw and
# abidiff (Debian's abigail-tools). Rewrite the baseline, when the major
# changes or an addition is released, with the target dfsae_abi_baseline.
if(TARGET dfsae_shared AND DFSAE_ABIDW AND DFSAE_ABIDIFF)
  set(_abi_common -DHEADER=${PROJECT_SOURCE_DIR}/include/dfsae.h
    -DEXPERIMENTAL_HEADER=${_pkg_experimental}
    -DABIDW=${DFSAE_ABIDW} -DABIDIFF=${DFSAE_ABIDIFF} -DWORK=${_pkg_work}/abi
    -DLIB=$<TARGET_FILE:dfsae_shared> -DBASELINE=${PROJECT_SOURCE_DIR}/abi/libdfsae.abi)
  if(PROJECT_VERSION_MAJOR GREATER_EQUAL 1)
    add_test(NAME test_abi_baseline COMMAND ${CMAKE_COMMAND} ${_abi_common}
      -P ${_pkg_dir}/check_abi_baseline.cmake)
    set_tests_properties(test_abi_baseline PROPERTIES LABELS package)
  endif()
  add_custom_target(dfsae_abi_baseline COMMAND ${CMAKE_COMMAND} ${_abi_common}
    -DMODE=update -P ${_pkg_dir}/check_abi_baseline.cmake VERBATIM)

  set(_evo_libs)
  foreach(_v 1 2 3 4)
    add_library(dfsae_abi_evolve${_v} SHARED package/abi_evolve.c)
    target_compile_definitions(dfsae_abi_evolve${_v} PRIVATE EVO_VARIANT=${_v})
    target_compile_options(dfsae_abi_evolve${_v} PRIVATE -g)
    # One SONAME for all variants, as for releases of one library.
    set_target_properties(dfsae_abi_evolve${_v} PROPERTIES C_VISIBILITY_PRESET hidden
      OUTPUT_NAME dfsae_abi_evolve
      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/abi_evolve${_v})
    list(APPEND _evo_libs -DLIB${_v}=$<TARGET_FILE:dfsae_abi_evolve${_v}>)
  endforeach()
  add_test(NAME test_abi_baseline_selftest COMMAND ${CMAKE_COMMAND} ${_evo_libs}
    -DHEADER=${_pkg_dir}/abi_evolve.h -DABIDW=${DFSAE_ABIDW} -DABIDIFF=${DFSAE_ABIDIFF}
    -DWORK=${_pkg_work}/abi-selftest -P ${_pkg_dir}/check_abi_baseline_selftest.cmake)
  set_tests_properties(test_abi_baseline_selftest PROPERTIES LABELS package)
endif()

# Install into a prefix under the build tree (fixture), then use it.
add_test(NAME test_package_install COMMAND ${CMAKE_COMMAND}
  -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${_pkg_prefix}
  -DLIBDIR=${CMAKE_INSTALL_LIBDIR} -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}
  -DSHARED=${DFSAE_BUILD_SHARED} -DSTATIC=${DFSAE_BUILD_STATIC}
  -DSONAME=${_pkg_soname} -DVERSION=${PROJECT_VERSION}
  -DMPI=$<TARGET_EXISTS:dfsae_mpi>
  -P ${_pkg_dir}/install_tree.cmake)
set_tests_properties(test_package_install PROPERTIES
  FIXTURES_SETUP dfsae_installed LABELS package)

if(DFSAE_BUILD_SHARED)
  set(_pkg_common -DPREFIX=${_pkg_prefix} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
    -DCC=${CMAKE_C_COMPILER} -DFLAGS=${_pkg_flags} -DPKG_CONFIG=${DFSAE_PKG_CONFIG}
    -DOBJDUMP=${CMAKE_OBJDUMP})
  add_test(NAME test_install_consumer COMMAND ${CMAKE_COMMAND} ${_pkg_common}
    -DWORK=${_pkg_work}/consumer -DSOURCE=${_pkg_dir}/consumer
    -DCXX=${DFSAE_TEST_CXX} -DVERSION=${PROJECT_VERSION} -DSONAME=${_pkg_soname}
    -DSTATIC=${DFSAE_BUILD_STATIC} -DBUILD_DIR=${PROJECT_BINARY_DIR}
    -P ${_pkg_dir}/run_consumer.cmake)
  add_test(NAME test_examples_installed COMMAND ${CMAKE_COMMAND} ${_pkg_common}
    -DWORK=${_pkg_work}/examples -DSOURCE=${PROJECT_SOURCE_DIR}/examples
    -P ${_pkg_dir}/run_examples.cmake)
  add_test(NAME test_readme_example COMMAND ${CMAKE_COMMAND} ${_pkg_common}
    -DWORK=${_pkg_work}/readme -DREADME=${PROJECT_SOURCE_DIR}/README.md
    -P ${_pkg_dir}/run_readme.cmake)
  set_tests_properties(test_install_consumer test_examples_installed test_readme_example
    PROPERTIES FIXTURES_REQUIRED dfsae_installed LABELS package)
  add_test(NAME test_install_consumer_shared_only COMMAND ${CMAKE_COMMAND}
    ${_pkg_common} -DWORK=${_pkg_work}/shared-only -DSOURCE=${_pkg_dir}/consumer
    -DSTATIC=${DFSAE_BUILD_STATIC} -P ${_pkg_dir}/run_consumer_shared_only.cmake)
  set_tests_properties(test_install_consumer_shared_only
    PROPERTIES FIXTURES_REQUIRED dfsae_installed LABELS package)
  # The installed tools (examples/tool) start from the prefix as it is.
  if(DFSAE_BUILD_EXAMPLES)
    add_test(NAME test_installed_tool COMMAND ${CMAKE_COMMAND}
      -DPREFIX=${_pkg_prefix} -DWORK=${_pkg_work}/tool
      -DBINDIR=${CMAKE_INSTALL_BINDIR} -DOBJDUMP=${CMAKE_OBJDUMP} -P ${_pkg_dir}/run_installed_tool.cmake)
    set_tests_properties(test_installed_tool
      PROPERTIES FIXTURES_REQUIRED dfsae_installed LABELS package)
  endif()
endif()
# A fully static program. Not under the sanitizers: their runtimes cannot
# be linked statically.
if(DFSAE_BUILD_STATIC AND NOT DFSAE_SANITIZE AND NOT DFSAE_SANITIZE_THREAD)
  add_test(NAME test_static_executable COMMAND ${CMAKE_COMMAND}
    -DPREFIX=${_pkg_prefix} -DWORK=${_pkg_work}/fully-static
    -DSOURCE=${_pkg_dir}/consumer -DCC=${CMAKE_C_COMPILER}
    -DLIBDIR=${CMAKE_INSTALL_LIBDIR} -DPKG_CONFIG=${DFSAE_PKG_CONFIG}
    -DOBJDUMP=${CMAKE_OBJDUMP} -P ${_pkg_dir}/run_static_executable.cmake)
  set_tests_properties(test_static_executable
    PROPERTIES FIXTURES_REQUIRED dfsae_installed LABELS package)
endif()
# The README's install command with only the quick-start packages.
add_test(NAME test_configure_without_cmocka COMMAND ${CMAKE_COMMAND}
  -DSOURCE=${PROJECT_SOURCE_DIR} -DWORK=${_pkg_work}/bare
  -DCC=${CMAKE_C_COMPILER} -P ${_pkg_dir}/run_configure_bare.cmake)
set_tests_properties(test_configure_without_cmocka PROPERTIES LABELS package)

# CI reports: with DFSAE_TEST_REPORT_DIR set (or the environment variable of
# that name at configure time), every test in this directory writes its
# CMocka XML report to <dir>/<test>.xml. A deferred call, so that tests
# registered after this fragment are covered too; one file per test, since
# CMocka's %g (the group name) collides across executables.
set(DFSAE_TEST_REPORT_DIR "$ENV{DFSAE_TEST_REPORT_DIR}" CACHE PATH
  "Folder for per-test CMocka XML reports (empty: none)")
function(dfsae_set_test_reports)
  if(NOT DFSAE_TEST_REPORT_DIR)
    return()
  endif()
  file(MAKE_DIRECTORY "${DFSAE_TEST_REPORT_DIR}")
  get_property(_tests DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" PROPERTY TESTS)
  foreach(_t ${_tests})
    set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT
      "CMOCKA_MESSAGE_OUTPUT=xml" "CMOCKA_XML_FILE=${DFSAE_TEST_REPORT_DIR}/${_t}.xml")
  endforeach()
endfunction()
cmake_language(DEFER CALL dfsae_set_test_reports)
