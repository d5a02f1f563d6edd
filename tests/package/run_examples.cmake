# Build examples/ on its own against the installed package, as a user who
# copies an example would, and run the synthetic example briefly.
#   cmake -DPREFIX=... -DWORK=... -DSOURCE=.../examples -DCC=... -DFLAGS=...
#         -P run_examples.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/run_helpers.cmake")
file(REMOVE_RECURSE "${WORK}")
dfsae_run(${CMAKE_COMMAND} -S "${SOURCE}" -B "${WORK}" -DCMAKE_PREFIX_PATH=${PREFIX}
  -DCMAKE_C_COMPILER=${CC} "-DCMAKE_C_FLAGS=${FLAGS} -Werror")
dfsae_run(${CMAKE_COMMAND} --build "${WORK}")
dfsae_run("${WORK}/synthetic_train" 3)
