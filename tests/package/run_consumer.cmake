# Build and run the consumer project against an installed dfsae: CMake's
# find_package (shared, static, C++), pkg-config (shared and static) with
# the compiler called directly, and find_package on the build tree's export.
#   cmake -DPREFIX=... -DWORK=... -DSOURCE=.../consumer -DCC=... -DCXX=...
#         -DFLAGS="..." -DLIBDIR=lib -DVERSION=0.1.0 -DSONAME=...
#         -DPKG_CONFIG=... -DSTATIC=ON -DBUILD_DIR=... -P run_consumer.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/run_helpers.cmake")
file(REMOVE_RECURSE "${WORK}")

# 1. CMake: find_package(dfsae CONFIG REQUIRED).
set(_args -S "${SOURCE}" -B "${WORK}/cmake" -DCMAKE_PREFIX_PATH=${PREFIX}
  -DCMAKE_C_COMPILER=${CC} -DEXPECT_VERSION=${VERSION}
  "-DCMAKE_C_FLAGS=${FLAGS}" "-DCMAKE_CXX_FLAGS=${FLAGS}")
if(CXX)
  list(APPEND _args -DCMAKE_CXX_COMPILER=${CXX})
endif()
dfsae_run(${CMAKE_COMMAND} ${_args})
dfsae_run(${CMAKE_COMMAND} --build "${WORK}/cmake")
dfsae_run("${WORK}/cmake/consumer_shared")
dfsae_expect_needed("${WORK}/cmake/consumer_shared" "${SONAME}" TRUE)
if(STATIC)
  dfsae_run("${WORK}/cmake/consumer_static")
  dfsae_expect_needed("${WORK}/cmake/consumer_static" "${SONAME}" FALSE)
endif()
if(CXX)
  dfsae_run("${WORK}/cmake/consumer_cxx")
else()
  message(STATUS "no C++ compiler: the C++ build of the consumer is skipped")
endif()

# 2. pkg-config, with the compiler called the way a Makefile would.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
separate_arguments(_flags UNIX_COMMAND "${FLAGS}")
dfsae_pkg_config(_pc dfsae)
dfsae_run(${CC} -std=c11 ${_flags} "${SOURCE}/consumer.c" -o "${WORK}/pc_shared"
  ${_pc} -Wl,-rpath,${PREFIX}/${LIBDIR} -lm)
dfsae_run("${WORK}/pc_shared")
dfsae_expect_needed("${WORK}/pc_shared" "${SONAME}" TRUE)
if(STATIC)
  dfsae_pkg_config(_pcs dfsae-static)
  dfsae_run(${CC} -std=c11 ${_flags} "${SOURCE}/consumer.c" -o "${WORK}/pc_static" ${_pcs} -lm)
  dfsae_run("${WORK}/pc_static")
  dfsae_expect_needed("${WORK}/pc_static" "${SONAME}" FALSE)
endif()

# 3. The build tree's own export (dfsae_DIR pointing at the build tree).
dfsae_run(${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}/buildtree" -Ddfsae_DIR=${BUILD_DIR}
  -DCMAKE_C_COMPILER=${CC} "-DCMAKE_C_FLAGS=${FLAGS}" "-DCMAKE_CXX_FLAGS=${FLAGS}")
dfsae_run(${CMAKE_COMMAND} --build "${WORK}/buildtree" --target consumer_shared)
dfsae_run("${WORK}/buildtree/consumer_shared")
