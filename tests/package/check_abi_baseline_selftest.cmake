# check_abi_baseline.cmake against the fixture's variants (abi_evolve.h):
# a baseline of variant 1 accepts 2 (an addition, an experimental change)
# and rejects 3 (a removed function) and 4 (a changed parameter type).
#   cmake -DHEADER=abi_evolve.h -DLIB1=... -DLIB2=... -DLIB3=... -DLIB4=...
#         -DABIDW=abidw -DABIDIFF=abidiff -DWORK=dir -P ...
cmake_minimum_required(VERSION 3.25)
set(_check "${CMAKE_CURRENT_LIST_DIR}/check_abi_baseline.cmake")
set(_base "${WORK}/fixture.abi")
function(run_check lib mode out_rc out_text)
  execute_process(COMMAND "${CMAKE_COMMAND}" -DLIB=${lib} -DHEADER=${HEADER}
    -DBASELINE=${_base} -DABIDW=${ABIDW} -DABIDIFF=${ABIDIFF} -DWORK=${WORK}
    -DMODE=${mode} -P "${_check}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _o ERROR_VARIABLE _e)
  set(${out_rc} ${_rc} PARENT_SCOPE)
  set(${out_text} "${_o}${_e}" PARENT_SCOPE)
endfunction()

run_check("${LIB1}" update _rc _text)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "could not write the fixture's baseline:\n${_text}")
endif()
foreach(_case "1;0;" "2;0;" "3;1;dfsae_evo_removed" "4;1;dfsae_evo_changed")
  list(GET _case 0 _v)
  list(GET _case 1 _must_fail)
  list(GET _case 2 _name)
  run_check("${LIB${_v}}" check _rc _text)
  if(_must_fail AND _rc EQUAL 0)
    message(FATAL_ERROR "variant ${_v} broke the ABI and passed:\n${_text}")
  endif()
  if(NOT _must_fail AND NOT _rc EQUAL 0)
    message(FATAL_ERROR "variant ${_v} only adds and failed:\n${_text}")
  endif()
  if(_must_fail)
    string(FIND "${_text}" "${_name}" _at)
    if(_at EQUAL -1)
      message(FATAL_ERROR "variant ${_v}: the report does not name ${_name}:\n${_text}")
    endif()
  endif()
endforeach()
message(STATUS "check_abi_baseline.cmake told every variant apart")
