# A consumer of the shared library needs none of the static library's
# dependencies: with BLAS and the threads library hidden from find_package
# (as on a machine without libopenblas-dev), find_package(dfsae) still
# offers dfsae::dfsae, and only COMPONENTS static is refused.
#   cmake -DPREFIX=... -DWORK=... -DSOURCE=.../consumer -DCC=... -DFLAGS=...
#         -DSTATIC=ON -P run_consumer_shared_only.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/run_helpers.cmake")
file(REMOVE_RECURSE "${WORK}")
set(_args -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_C_COMPILER=${CC}
  "-DCMAKE_C_FLAGS=${FLAGS}" "-DCMAKE_CXX_FLAGS=${FLAGS}"
  -DCMAKE_DISABLE_FIND_PACKAGE_BLAS=ON -DCMAKE_DISABLE_FIND_PACKAGE_Threads=ON)
dfsae_run(${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/shared" ${_args})
dfsae_run(${CMAKE_COMMAND} --build "${WORK}/shared" --target consumer_shared)
dfsae_run("${WORK}/shared/consumer_shared")
if(STATIC)
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/static"
    ${_args} -DREQUIRE_STATIC=ON
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(_rc EQUAL 0 OR NOT "${_out}${_err}" MATCHES "static")
    message(FATAL_ERROR "COMPONENTS static without BLAS: exit ${_rc}\n${_out}${_err}")
  endif()
  message(STATUS "ok: COMPONENTS static without BLAS is refused")
endif()
