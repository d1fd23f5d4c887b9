# SPDX-License-Identifier: MIT
# The build's layout and its BUILD_TESTING switch, from what CMake itself
# says it will build (its file API: every target, its source folder and its
# files), for two fresh configures of the project (no build: seconds, not the
# whole build again):
#   - BUILD_TESTING=OFF with GoogleTest made unfindable
#     (CMAKE_DISABLE_FIND_PACKAGE_GTest): the configure succeeds, no target
#     comes from tests/ or bench/, the user's targets are all there, and no
#     test is defined;
#   - the default (tests on): build/bin holds exactly the programs users run,
#     build/lib no test or bench handler; the test programs and handlers are
#     in build/tests/bin and build/tests/lib, the bench's in build/bench/bin
#     and build/bench/lib.
#
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -P build_layout_test.cmake
cmake_minimum_required(VERSION 3.19)  # string(JSON)

set(user_programs bd-analyze bd-demo-workload bd-handler-check bd-mark bd-ring-consumer bd-run)
set(failures 0)
macro(fail msg)
  message("FAIL: ${msg}")
  math(EXPR failures "${failures} + 1")
endmacro()

# configure(DIR ARGS...): configures SOURCE_DIR into DIR with a file API
# query for the code model; stops the test when the configure fails.
function(configure dir)
  file(REMOVE_RECURSE ${dir})
  file(WRITE ${dir}/.cmake/api/v1/query/codemodel-v2 "")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${dir} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAIL: configuring with ${ARGN} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# read_targets(DIR): for every target of DIR's code model, sets
# <name>_type, <name>_source (its folder, relative to SOURCE_DIR) and
# <name>_files (its artifacts, relative to DIR); targets lists the names.
macro(read_targets dir)
  set(reply ${dir}/.cmake/api/v1/reply)
  file(GLOB index ${reply}/index-*.json)
  file(READ "${index}" json)
  string(JSON codemodel_file GET "${json}" reply codemodel-v2 jsonFile)
  file(READ ${reply}/${codemodel_file} json)
  string(JSON config GET "${json}" configurations 0)
  string(JSON n LENGTH "${config}" targets)
  set(targets "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    string(JSON target_file GET "${config}" targets ${i} jsonFile)
    file(READ ${reply}/${target_file} t)
    string(JSON name GET "${t}" name)
    string(JSON ${name}_type GET "${t}" type)
    string(JSON ${name}_source GET "${t}" paths source)
    set(${name}_files "")
    string(JSON n_art ERROR_VARIABLE no_artifacts LENGTH "${t}" artifacts)
    if(NOT no_artifacts AND n_art GREATER 0)
      math(EXPR last_art "${n_art} - 1")
      foreach(j RANGE ${last_art})
        string(JSON f GET "${t}" artifacts ${j} path)
        list(APPEND ${name}_files ${f})
      endforeach()
    endif()
    list(APPEND targets ${name})
  endforeach()
endmacro()

# --- BUILD_TESTING=OFF, no GoogleTest ---------------------------------------
set(off ${WORK_DIR}/testing-off)
configure(${off} -DBUILD_TESTING=OFF -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON)
read_targets(${off})
foreach(t IN LISTS targets)
  if(${t}_source MATCHES "^(tests|bench)(/|$)")
    fail("BUILD_TESTING=OFF still defines ${t} (${${t}_source})")
  endif()
endforeach()
foreach(t IN LISTS user_programs ITEMS bdtrace-qemu bdguest_static bdguest_shared)
  if(NOT t IN_LIST targets)
    fail("BUILD_TESTING=OFF lost the target ${t}")
  endif()
endforeach()
if(EXISTS ${off}/CTestTestfile.cmake)
  file(READ ${off}/CTestTestfile.cmake tests_file)
  if(tests_file MATCHES "add_test|subdirs")
    fail("BUILD_TESTING=OFF still defines tests (${off}/CTestTestfile.cmake)")
  endif()
endif()

# --- the default: where everything lands -------------------------------------
set(on ${WORK_DIR}/testing-on)
configure(${on})
read_targets(${on})
set(in_bin "")
set(test_programs 0)
foreach(t IN LISTS targets)
  if(NOT ${t}_type MATCHES "^(EXECUTABLE|MODULE_LIBRARY|SHARED_LIBRARY)$")
    continue()
  endif()
  foreach(f IN LISTS ${t}_files)
    if(f MATCHES "^bin/([^/]+)$")
      list(APPEND in_bin ${CMAKE_MATCH_1})
    endif()
    if(${t}_source MATCHES "^tests(/|$)" AND NOT f MATCHES "^tests/")
      fail("test target ${t} lands outside build/tests: ${f}")
    endif()
    if(${t}_source MATCHES "^bench(/|$)" AND NOT f MATCHES "^bench/(bin|lib)/")
      fail("bench target ${t} lands outside build/bench/bin and build/bench/lib: ${f}")
    endif()
    if(f MATCHES "^tests/bin/" AND ${t}_source MATCHES "^tests(/|$)")
      math(EXPR test_programs "${test_programs} + 1")
    endif()
  endforeach()
endforeach()
list(SORT in_bin)
if(NOT in_bin STREQUAL user_programs)
  fail("build/bin holds '${in_bin}', expected exactly the programs users run: '${user_programs}'")
endif()
if(test_programs LESS 10)
  fail("only ${test_programs} test programs in build/tests/bin: is the test tree still defined?")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} failure(s)")
endif()
message("ok")
