# check_abi.cmake must reject the fixture library and name each fault.
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND "${CMAKE_COMMAND}" -DLIB=${LIB} -DHEADER=${HEADER}
  -DNM=${NM} -DOBJDUMP=${OBJDUMP} -DSONAME=libdfsae_abi_fixture.so.9
  -P "${CMAKE_CURRENT_LIST_DIR}/check_abi.cmake"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
set(_all "${_out}${_err}")
if(_rc EQUAL 0)
  message(FATAL_ERROR "check_abi.cmake accepted a faulty library:\n${_all}")
endif()
foreach(_expect
    "leaked symbol leaky_helper"
    "missing symbol dfsae_fixture_absent"
    "declared without DFSAE_API dfsae_fixture_noapi"
    "missing symbol dfsae_fixture_noapi"
    "undeclared symbol dfsae_fixture_undeclared"
    "SONAME is libdfsae_abi_fixture.so, expected libdfsae_abi_fixture.so.9")
  string(FIND "${_all}" "${_expect}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "check_abi.cmake did not report '${_expect}':\n${_all}")
  endif()
endforeach()
string(FIND "${_all}" "dfsae_fixture_present" _at)
if(NOT _at EQUAL -1)
  message(FATAL_ERROR "check_abi.cmake flagged a correct symbol:\n${_all}")
endif()
message(STATUS "check_abi.cmake caught every fault of the fixture")
