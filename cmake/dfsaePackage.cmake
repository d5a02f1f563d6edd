# Install rules and package files: the header, the libraries, the CMake
# package (dfsae::dfsae, dfsae::dfsae_static) and pkg-config files.
include(CMakePackageConfigHelpers)

set(DFSAE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/dfsae")
set(DFSAE_PKGCONFIG_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

install(FILES "${PROJECT_SOURCE_DIR}/include/dfsae.h"
  "${PROJECT_SOURCE_DIR}/include/dfsae_dist.h"
  "${PROJECT_SOURCE_DIR}/include/dfsae_experimental.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# One export set per library: dfsaeTargets (the shared one, which needs
# nothing else) and dfsaeStaticTargets (the static one, whose consumers link
# BLAS and the threads library themselves), so that a consumer of the
# shared library never needs what only the static one does.
foreach(_t ${DFSAE_INSTALL_TARGETS})
  set(_set dfsaeTargets)
  if(_t STREQUAL "dfsae_static")
    set(_set dfsaeStaticTargets)
  endif()
  install(TARGETS ${_t}
    EXPORT ${_set}
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" NAMELINK_COMPONENT Development
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(EXPORT ${_set}
    NAMESPACE dfsae::
    DESTINATION "${DFSAE_CMAKE_DIR}")
  # The same targets straight from the build tree (CMAKE_PREFIX_PATH=build).
  export(EXPORT ${_set}
    NAMESPACE dfsae::
    FILE "${PROJECT_BINARY_DIR}/${_set}.cmake")
endforeach()

# Version rule: the package is compatible exactly when the ABI is. Below
# 1.0 the SONAME is 0.MINOR and a minor release may break the ABI, so only
# the same MAJOR.MINOR matches (SameMinorVersion); from 1.0 on the SONAME is
# the major and SameMajorVersion applies.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_dfsae_compat SameMinorVersion)
else()
  set(_dfsae_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/dfsaeConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_dfsae_compat})

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/dfsaeConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/dfsaeConfig.cmake"
  INSTALL_DESTINATION "${DFSAE_CMAKE_DIR}")
install(FILES
  "${PROJECT_BINARY_DIR}/dfsaeConfig.cmake"
  "${PROJECT_BINARY_DIR}/dfsaeConfigVersion.cmake"
  DESTINATION "${DFSAE_CMAKE_DIR}")

# pkg-config. The files locate the prefix from their own directory, so an
# install with `cmake --install --prefix P` or DESTDIR stays usable.
function(dfsae_pc_libs out)
  set(_flags)
  foreach(_lib ${BLAS_LIBRARIES} m)
    if(_lib MATCHES "^-")
      list(APPEND _flags "${_lib}")
    elseif(IS_ABSOLUTE "${_lib}")
      get_filename_component(_dir "${_lib}" DIRECTORY)
      get_filename_component(_name "${_lib}" NAME_WE)
      string(REGEX REPLACE "^lib" "" _name "${_name}")
      if(NOT _dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND _flags "-L${_dir}")
      endif()
      list(APPEND _flags "-l${_name}")
    else()
      list(APPEND _flags "-l${_lib}")
    endif()
  endforeach()
  list(APPEND _flags -pthread) # the model's workers (src/parallel)
  list(REMOVE_DUPLICATES _flags)
  list(JOIN _flags " " _flags)
  set(${out} "${_flags}" PARENT_SCOPE)
endfunction()
dfsae_pc_libs(DFSAE_PC_LIBS_PRIVATE)

set(_pc_pcdir "${CMAKE_INSTALL_PREFIX}/${DFSAE_PKGCONFIG_DIR}")
if(IS_ABSOLUTE "${DFSAE_PKGCONFIG_DIR}")
  set(_pc_pcdir "${DFSAE_PKGCONFIG_DIR}")
endif()
file(RELATIVE_PATH DFSAE_PC_PREFIX_FROM_PCDIR "${_pc_pcdir}" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" DFSAE_PC_PREFIX_FROM_PCDIR "${DFSAE_PC_PREFIX_FROM_PCDIR}")
file(RELATIVE_PATH DFSAE_PC_LIBDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_LIBDIR}")
file(RELATIVE_PATH DFSAE_PC_INCLUDEDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_INCLUDEDIR}")

# dfsae.pc: -ldfsae (the shared library when built), BLAS in Libs.private.
# dfsae-static.pc names the archive itself, since both share the name dfsae.
set(DFSAE_PC_CFLAGS "")
if(DFSAE_BUILD_SHARED)
  set(DFSAE_PC_CFLAGS " -DDFSAE_SHARED")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/dfsae.pc.in"
  "${PROJECT_BINARY_DIR}/dfsae.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/dfsae.pc" DESTINATION "${DFSAE_PKGCONFIG_DIR}")
if(DFSAE_BUILD_STATIC)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/dfsae-static.pc.in"
    "${PROJECT_BINARY_DIR}/dfsae-static.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/dfsae-static.pc" DESTINATION "${DFSAE_PKGCONFIG_DIR}")
endif()
