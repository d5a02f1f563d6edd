# A fully static program (-static, no shared object at all): through
# pkg-config --static dfsae-static, and through CMake with BLA_STATIC=ON.
# Debian has every archive it needs: libdfsae.a, libopenblas.a
# (libopenblas-dev), libc.a and libm.a (libc6-dev).
#   cmake -DPREFIX=... -DWORK=... -DSOURCE=.../consumer -DCC=...
#         -DLIBDIR=lib -DPKG_CONFIG=... -DOBJDUMP=... -P run_static_executable.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/run_helpers.cmake")
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# No NEEDED entry and no interpreter: nothing is loaded at run time.
function(expect_fully_static exe)
  execute_process(COMMAND ${OBJDUMP} -p "${exe}" OUTPUT_VARIABLE _dyn)
  if(_dyn MATCHES "NEEDED|INTERP")
    message(FATAL_ERROR "${exe} is not fully static:\n${_dyn}")
  endif()
endfunction()

set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
execute_process(COMMAND ${PKG_CONFIG} --static --cflags --libs dfsae-static
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _pc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --static dfsae-static failed")
endif()
separate_arguments(_pc UNIX_COMMAND "${_pc}")
dfsae_run(${CC} -std=c11 "${SOURCE}/consumer.c" -static -o "${WORK}/pc_static"
  ${_pc} -lm)
expect_fully_static("${WORK}/pc_static")
dfsae_run("${WORK}/pc_static")

dfsae_run(${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/cmake"
  -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_C_COMPILER=${CC}
  -DBLA_STATIC=ON -DFULLY_STATIC=ON)
dfsae_run(${CMAKE_COMMAND} --build "${WORK}/cmake" --target consumer_fully_static)
expect_fully_static("${WORK}/cmake/consumer_fully_static")
dfsae_run("${WORK}/cmake/consumer_fully_static")
