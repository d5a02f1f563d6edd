# Small helpers for the packaging test scripts.

# Run a command; stop with its output if it fails.
function(dfsae_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc
    OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    list(JOIN ARGN " " _cmd)
    message(FATAL_ERROR "failed (${_rc}): ${_cmd}\n${_out}")
  endif()
  list(GET ARGN 0 _prog)
  get_filename_component(_prog "${_prog}" NAME)
  message(STATUS "ok: ${_prog}")
endfunction()

# `pkg-config --cflags --libs NAME` as a list of arguments.
function(dfsae_pkg_config out name)
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ${name}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _flags ERROR_VARIABLE _err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs ${name} failed: ${_err}")
  endif()
  message(STATUS "pkg-config ${name}: ${_flags}")
  separate_arguments(_flags UNIX_COMMAND "${_flags}")
  set(${out} ${_flags} PARENT_SCOPE)
endfunction()

# Check whether an executable depends on the shared library (DT_NEEDED), so
# that a "static" build that quietly took the .so is caught.
function(dfsae_expect_needed exe soname expected)
  execute_process(COMMAND ${OBJDUMP} -p "${exe}" OUTPUT_VARIABLE _dyn)
  string(REGEX MATCHALL "NEEDED +[^ \n]+" _entries "${_dyn}")
  set(_needed FALSE)
  foreach(_e ${_entries})
    string(REGEX REPLACE "^NEEDED +" "" _e "${_e}")
    if(_e STREQUAL soname)
      set(_needed TRUE)
    endif()
  endforeach()
  if(NOT _needed STREQUAL expected)
    message(FATAL_ERROR "${exe}: depends on ${soname}: ${_needed}, expected ${expected}")
  endif()
endfunction()
