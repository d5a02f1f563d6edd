# The README's install command on a machine with only the quick-start
# packages: without CMocka and pkg-config (hidden from find_package here),
# configuring must succeed and leave the tests out; asking for the tests
# must still fail, and say why.
#   cmake -DSOURCE=... -DWORK=... -DCC=... -P run_configure_bare.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
set(_hide -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_C_COMPILER=${CC})
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/plain"
  -DCMAKE_INSTALL_PREFIX=${WORK}/prefix ${_hide}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "configure without CMocka failed:\n${_out}${_err}")
endif()
if(NOT _out MATCHES "CMocka not found: the tests are not built")
  message(FATAL_ERROR "no word about the tests being left out:\n${_out}")
endif()
file(STRINGS "${WORK}/plain/CMakeCache.txt" _tests REGEX "^DFSAE_BUILD_TESTS:")
if(NOT _tests STREQUAL "DFSAE_BUILD_TESTS:BOOL=OFF")
  message(FATAL_ERROR "tests not off: ${_tests}")
endif()
message(STATUS "ok: configured without CMocka, tests off")

execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/tests"
  -DDFSAE_BUILD_TESTS=ON ${_hide}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(_rc EQUAL 0 OR NOT _err MATCHES "PkgConfig")
  message(FATAL_ERROR "-DDFSAE_BUILD_TESTS=ON without CMocka: exit ${_rc}\n${_err}")
endif()
message(STATUS "ok: -DDFSAE_BUILD_TESTS=ON without CMocka fails")
