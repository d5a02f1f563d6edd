# The BLAS behind the seam: CBLAS through FindBLAS, vendor selectable.
set(BLA_VENDOR ${DFSAE_BLAS_VENDOR})
find_package(BLAS REQUIRED)

# FindBLAS finds the library, not cblas.h; OpenBLAS keeps its header apart.
find_path(DFSAE_CBLAS_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas-pthread openblas "${CMAKE_LIBRARY_ARCHITECTURE}")
if(NOT DFSAE_CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found (Debian: apt-get install libopenblas-dev or libblas-dev)")
endif()

add_library(dfsae_blas INTERFACE)
target_include_directories(dfsae_blas INTERFACE ${DFSAE_CBLAS_INCLUDE_DIR})
target_link_libraries(dfsae_blas INTERFACE BLAS::BLAS m)
message(STATUS "dfsae: BLAS vendor ${DFSAE_BLAS_VENDOR}: ${BLAS_LIBRARIES}")
