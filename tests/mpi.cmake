# Area "mpi": distributed training. Sharded model files on one process
# need no MPI; the rest runs over libdfsae_mpi (label mpi) under mpiexec,
# registered only when MPI was found.
dfsae_add_test(test_shards_index SOURCES test_shards_index.c)

if(NOT TARGET dfsae_mpi)
  return()
endif()

add_executable(test_mpi_exact mpi/test_mpi_exact.c mpi/mpi_fixture.c)
target_link_libraries(test_mpi_exact PRIVATE dfsae::mpi ${DFSAE_CMOCKA} m)
# The tests' SplitMix64 (support/splitmix64.h, header-only).
target_include_directories(test_mpi_exact PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
dfsae_set_warnings(test_mpi_exact)

# Loopback only, whichever MPI: OpenMPI refuses root without its two
# variables and more ranks than cores without oversubscription (MPICH
# ignores them). Shared memory between the ranks, no network interface.
set(DFSAE_MPI_TEST_ENV
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
  OMPI_MCA_btl_vader_single_copy_mechanism=none
  HYDRA_IFACE=lo OPENBLAS_NUM_THREADS=1)

# MPI's own allocations outlive MPI_Finalize: not ours to report as leaks.
if(DFSAE_SANITIZE)
  list(APPEND DFSAE_MPI_TEST_ENV "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
endif()

function(dfsae_add_mpi_test name exe)
  foreach(_np ${ARGN})
    add_test(NAME ${name}_np${_np}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${_np}
              ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${exe}> ${MPIEXEC_POSTFLAGS})
    # A rank stuck in a collective must fail the test, not hang CI. One
    # mpiexec at a time: two OpenMPI 4 launchers starting together race
    # to create their session directory (/tmp/ompi.HOST.UID) and one
    # fails orte_init ("mkdir ... File exists"; seen under ctest -j2).
    set_tests_properties(${name}_np${_np} PROPERTIES
      LABELS mpi TIMEOUT 120 ENVIRONMENT "${DFSAE_MPI_TEST_ENV}"
      RESOURCE_LOCK mpiexec)
  endforeach()
endfunction()

dfsae_add_mpi_test(test_mpi_exact test_mpi_exact 1 2 3)

add_executable(test_mpi_shards mpi/test_mpi_shards.c mpi/mpi_fixture.c)
target_link_libraries(test_mpi_shards PRIVATE dfsae::mpi ${DFSAE_CMOCKA} m)
target_include_directories(test_mpi_shards PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
dfsae_set_warnings(test_mpi_shards)
# 4 shards: loaded on 1 and on 2 (and 3 on 1), as docs/distributed.md says.
dfsae_add_mpi_test(test_mpi_shards test_mpi_shards 1 2 3 4)

# The dfsae-mpi tool, end to end (with the examples).
if(DFSAE_BUILD_EXAMPLES) # the targets are defined after this directory
  add_test(NAME test_mpi_tool
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpi/tool_mpi_test.sh
            ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG}
            $<TARGET_FILE:dfsae_tool> $<TARGET_FILE:dfsae_mpi_tool>)
  set_tests_properties(test_mpi_tool PROPERTIES
    LABELS mpi TIMEOUT 180 ENVIRONMENT "${DFSAE_MPI_TEST_ENV}"
    RESOURCE_LOCK mpiexec)
endif()
