# Install the build tree into a fresh prefix and check the layout.
#   cmake -DBUILD_DIR=... -DPREFIX=... -DLIBDIR=lib -DINCLUDEDIR=include
#         -DSHARED=ON -DSTATIC=ON -DSONAME=libdfsae.so.0.1 -DVERSION=0.1.0
#         -P install_tree.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed:\n${_out}")
endif()

set(_lib "${PREFIX}/${LIBDIR}")
set(_expect
  "${PREFIX}/${INCLUDEDIR}/dfsae.h"
  "${_lib}/cmake/dfsae/dfsaeConfig.cmake"
  "${_lib}/cmake/dfsae/dfsaeConfigVersion.cmake"
  "${_lib}/pkgconfig/dfsae.pc")
if(SHARED)
  list(APPEND _expect "${_lib}/cmake/dfsae/dfsaeTargets.cmake")
  list(APPEND _expect "${_lib}/libdfsae.so" "${_lib}/${SONAME}" "${_lib}/libdfsae.so.${VERSION}")
endif()
if(STATIC)
  list(APPEND _expect "${_lib}/libdfsae.a" "${_lib}/pkgconfig/dfsae-static.pc"
    "${_lib}/cmake/dfsae/dfsaeStaticTargets.cmake")
endif()
foreach(_f ${_expect})
  if(NOT EXISTS "${_f}")
    message(FATAL_ERROR "not installed: ${_f}\n${_out}")
  endif()
endforeach()
if(SHARED)
  # The development link and the SONAME link lead to the real file.
  file(READ_SYMLINK "${_lib}/libdfsae.so" _dev)
  file(READ_SYMLINK "${_lib}/${SONAME}" _so)
  if(NOT _dev STREQUAL SONAME OR NOT _so STREQUAL "libdfsae.so.${VERSION}")
    message(FATAL_ERROR "bad links: libdfsae.so -> ${_dev}, ${SONAME} -> ${_so}")
  endif()
endif()
# dfsae.h, dfsae_dist.h and dfsae_experimental.h are the public headers, and
# dfsae_mpi.h when MPI was found (libdfsae_mpi, its target file and its
# pkg-config file with it).
set(_want_headers "${PREFIX}/${INCLUDEDIR}/dfsae.h" "${PREFIX}/${INCLUDEDIR}/dfsae_dist.h"
  "${PREFIX}/${INCLUDEDIR}/dfsae_experimental.h")
if(MPI)
  list(APPEND _want_headers "${PREFIX}/${INCLUDEDIR}/dfsae_mpi.h")
  foreach(_f "${_lib}/cmake/dfsae/dfsaeMpiTargets.cmake" "${_lib}/pkgconfig/dfsae-mpi.pc")
    if(NOT EXISTS "${_f}")
      message(FATAL_ERROR "not installed: ${_f}")
    endif()
  endforeach()
endif()
file(GLOB_RECURSE _headers "${PREFIX}/${INCLUDEDIR}/*")
list(SORT _headers)
if(NOT _headers STREQUAL _want_headers)
  message(FATAL_ERROR "installed headers other than ${_want_headers}: ${_headers}")
endif()
message(STATUS "installed into ${PREFIX}")
