# The installed tools (dfsae, and dfsae-mpi with MPI) start from a fresh
# prefix, and from a copy of it elsewhere, without ldconfig or
# LD_LIBRARY_PATH: their RUNPATH is $ORIGIN-relative and finds the
# prefix's own libdfsae.
#   cmake -DPREFIX=... -DWORK=... -DBINDIR=bin -DOBJDUMP=...
#         -P run_installed_tool.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(COPY "${PREFIX}/" DESTINATION "${WORK}/moved")

set(_tools dfsae)
if(EXISTS "${PREFIX}/${BINDIR}/dfsae-mpi")
  list(APPEND _tools dfsae-mpi)
endif()
foreach(_root "${PREFIX}" "${WORK}/moved")
  foreach(_tool ${_tools})
    set(_exe "${_root}/${BINDIR}/${_tool}")
    execute_process(COMMAND ${OBJDUMP} -p "${_exe}" OUTPUT_VARIABLE _dyn)
    string(REGEX MATCH "(RUNPATH|RPATH) +[^\n]*" _runpath "${_dyn}")
    if(NOT _runpath MATCHES "\\$ORIGIN" OR _runpath MATCHES " /")
      message(FATAL_ERROR "${_exe}: '${_runpath}', expected a path from $ORIGIN only")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
      "${_exe}" --help
      RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    if(NOT "${_out}${_err}" MATCHES "usage: " OR _err MATCHES "error while loading")
      message(FATAL_ERROR "${_exe} --help: exit ${_rc}\n${_out}${_err}")
    endif()
    # The library it loads is the one of its own prefix.
    execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
      LD_TRACE_LOADED_OBJECTS=1 "${_exe}" OUTPUT_VARIABLE _deps)
    string(REGEX MATCH "libdfsae\\.so[^ ]* => ([^ ]+)" _m "${_deps}")
    if(NOT CMAKE_MATCH_1)
      message(FATAL_ERROR "${_exe}: libdfsae not loaded?\n${_deps}")
    endif()
    file(REAL_PATH "${CMAKE_MATCH_1}" _loaded)
    file(REAL_PATH "${_root}" _real_root)
    string(FIND "${_loaded}" "${_real_root}/" _at)
    if(NOT _at EQUAL 0)
      message(FATAL_ERROR "${_exe} loads ${_loaded}, not the one under ${_root}")
    endif()
    message(STATUS "ok: ${_exe} (${_runpath}) loads ${_loaded}")
  endforeach()
endforeach()
