# The shared library's ABI against the committed baseline (abidw's XML):
# anything but additions fails. The experimental tier (the functions the
# header declares inside `#ifdef DFSAE_STATIC_LINKING_ONLY` ... `#endif /*
# DFSAE_STATIC_LINKING_ONLY */`, and every function of the headers listed in
# EXPERIMENTAL_HEADER, experimental as a whole) is left out of both sides: it may change in a
# minor release.
#   cmake -DLIB=libdfsae.so -DHEADER=dfsae.h [-DEXPERIMENTAL_HEADER="h1;h2"]
#         -DBASELINE=abi/libdfsae.abi
#         -DABIDW=abidw -DABIDIFF=abidiff -DWORK=dir [-DMODE=update]
#         -P check_abi_baseline.cmake
# MODE=update (re)writes the baseline instead of checking against it.
cmake_minimum_required(VERSION 3.25)
foreach(_v LIB HEADER BASELINE ABIDW ABIDIFF WORK)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "check_abi_baseline.cmake: -D${_v}=... is required")
  endif()
endforeach()

# Appends to the list `out` every dfsae_ name followed by "(" in `text`.
function(dfsae_called_names text out)
  set(_names ${${out}})
  string(REGEX MATCHALL "(dfsae_[A-Za-z0-9_]*)[ \t\n]*\\(" _calls "${text}")
  foreach(_c ${_calls})
    string(REGEX REPLACE "[ \t\n]*\\($" "" _c "${_c}")
    list(APPEND _names "${_c}")
  endforeach()
  set(${out} ${_names} PARENT_SCOPE)
endfunction()

# Names declared in the experimental block and the experimental header.
file(READ "${HEADER}" _text)
string(FIND "${_text}" "#ifdef DFSAE_STATIC_LINKING_ONLY" _begin)
set(_experimental)
if(NOT _begin EQUAL -1)
  string(SUBSTRING "${_text}" ${_begin} -1 _tail)
  string(FIND "${_tail}" "#endif /* DFSAE_STATIC_LINKING_ONLY */" _end)
  if(_end EQUAL -1)
    message(FATAL_ERROR "${HEADER}: the experimental block has no "
      "'#endif /* DFSAE_STATIC_LINKING_ONLY */'")
  endif()
  string(SUBSTRING "${_tail}" 0 ${_end} _block)
  dfsae_called_names("${_block}" _experimental)
endif()
foreach(_h ${EXPERIMENTAL_HEADER})
  file(READ "${_h}" _whole)
  dfsae_called_names("${_whole}" _experimental)
endforeach()
if(_experimental)
  list(REMOVE_DUPLICATES _experimental)
endif()
file(MAKE_DIRECTORY "${WORK}")
set(_supp "${WORK}/experimental.suppr")
if(_experimental)
  list(JOIN _experimental "|" _alt)
  file(WRITE "${_supp}" "[suppress_function]\n  name_regexp = ^(${_alt})$\n")
else()
  file(WRITE "${_supp}" "")
endif()
get_filename_component(_hdir "${HEADER}" DIRECTORY)

if(MODE STREQUAL "update")
  execute_process(COMMAND "${ABIDW}" "--no-show-locs" "--no-comp-dir-path"
    "--no-corpus-path" "--no-elf-needed" "--drop-private-types"
    "--type-id-style" "hash" "--headers-dir" "${_hdir}" "--suppressions" "${_supp}"
    "--out-file" "${BASELINE}" "${LIB}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "abidw failed (${_rc})")
  endif()
  message(STATUS "ABI baseline written to ${BASELINE}")
  return()
endif()

if(NOT EXISTS "${BASELINE}")
  message(FATAL_ERROR "no ABI baseline at ${BASELINE}")
endif()
# --no-added-syms: additions are what a minor release may bring.
execute_process(COMMAND "${ABIDIFF}" "--no-added-syms" "--suppressions" "${_supp}"
  "--headers-dir2" "${_hdir}" "${BASELINE}" "${LIB}"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
list(LENGTH _experimental _n_exp)
if(NOT _rc EQUAL 0)
  message(NOTICE "${_out}${_err}")
  message(FATAL_ERROR "ABI differs from the baseline ${BASELINE} in more than "
    "additions (abidiff status ${_rc}); ${_n_exp} experimental functions ignored")
endif()
message(STATUS "ABI: only additions against ${BASELINE}; "
  "${_n_exp} experimental functions ignored")
