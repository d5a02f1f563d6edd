# The README's usage example must compile warning-free and run: take the
# first ```c block of README.md, build it against the installed package
# with pkg-config, and run it.
#   cmake -DREADME=... -DPREFIX=... -DLIBDIR=lib -DWORK=... -DCC=...
#         -DFLAGS=... -DPKG_CONFIG=... -P run_readme.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/run_helpers.cmake")
file(REMOVE_RECURSE "${WORK}")
file(READ "${README}" _text)
string(FIND "${_text}" "```c\n" _begin)
if(_begin EQUAL -1)
  message(FATAL_ERROR "no ```c block in ${README}")
endif()
math(EXPR _begin "${_begin} + 5")
string(SUBSTRING "${_text}" ${_begin} -1 _rest)
string(FIND "${_rest}" "```" _end)
string(SUBSTRING "${_rest}" 0 ${_end} _code)
file(WRITE "${WORK}/readme_example.c" "${_code}")

set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
dfsae_pkg_config(_pc dfsae)
separate_arguments(_flags UNIX_COMMAND "${FLAGS}")
dfsae_run(${CC} -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
  ${_flags} "${WORK}/readme_example.c" -o "${WORK}/readme_example"
  ${_pc} -Wl,-rpath,${PREFIX}/${LIBDIR} -lm)
dfsae_run("${WORK}/readme_example")
