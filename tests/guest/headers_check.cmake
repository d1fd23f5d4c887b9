# SPDX-License-Identifier: MIT
# Compiles every guest header (guest-probes/include/bd/*.h) under one language
# standard with -Wall -Wextra -pedantic -Werror: each header alone (it must be
# self-contained) and all of them together. Fails on the first warning.
#
#   cmake -DCOMPILER=cc -DLANG=c|c++ -DSTD=c99 -DINCLUDE_DIR=... -DWORK_DIR=... -P headers_check.cmake
foreach(var COMPILER LANG STD INCLUDE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "headers_check: -D${var}=... is required")
  endif()
endforeach()

file(GLOB headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/bd/*.h")
list(SORT headers)
if(NOT headers)
  message(FATAL_ERROR "headers_check: no headers in ${INCLUDE_DIR}/bd")
endif()

if(LANG STREQUAL "c")
  set(ext c)
else()
  set(ext cc)
endif()
set(dir "${WORK_DIR}/headers-${STD}")
file(REMOVE_RECURSE "${dir}")
file(MAKE_DIRECTORY "${dir}")

set(all "")
set(units "")
foreach(h ${headers})
  string(MAKE_C_IDENTIFIER "${h}" id)
  file(WRITE "${dir}/${id}.${ext}" "#include <${h}>\nint bd_headers_check_${id}(void);\nint bd_headers_check_${id}(void) { return 0; }\n")
  list(APPEND units "${dir}/${id}.${ext}")
  string(APPEND all "#include <${h}>\n")
endforeach()
file(WRITE "${dir}/all.${ext}" "${all}int main(void) { return 0; }\n")
list(APPEND units "${dir}/all.${ext}")

set(failed 0)
foreach(unit ${units})
  execute_process(
    COMMAND "${COMPILER}" -x ${LANG} -std=${STD} -Wall -Wextra -pedantic -Werror
            -I "${INCLUDE_DIR}" -c "${unit}" -o "${unit}.o"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  get_filename_component(name "${unit}" NAME)
  if(NOT rc EQUAL 0)
    message("FAIL ${name} (-std=${STD}):\n${out}")
    set(failed 1)
  elseif(NOT out STREQUAL "")
    message("FAIL ${name} (-std=${STD}): the compiler said something:\n${out}")
    set(failed 1)
  else()
    message("ok ${name} (-std=${STD})")
  endif()
endforeach()
list(LENGTH headers n)
if(failed)
  message(FATAL_ERROR "guest headers are not clean under -std=${STD} -pedantic")
endif()
message("all ${n} guest headers compile cleanly under ${COMPILER} -std=${STD}")
