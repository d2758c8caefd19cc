# Helpers that give every module the same shape:
#
#   pantau_library(NAME SRCS a.cc b.cc DEPS pantau_base absl::status ...)
#     A static library target NAME. Sources ending in _test.cc, _fuzz.cc or
#     _bench.cc must not be listed here.
#
#   pantau_test(NAME SRCS a_test.cc b_test.cc DEPS pantau_x ... [LABELS l ...]
#               [TIMEOUT seconds])
#     One GoogleTest binary per module; gtest_discover_tests registers each
#     TEST as its own ctest case so failures are named.
#
#   pantau_fuzz(NAME SRC x_fuzz.cc DEPS ... [CORPUS dir])
#     A fuzz target defining LLVMFuzzerTestOneInput. In a normal build it is
#     linked with a replay main and ctest runs it over CORPUS (so it always
#     compiles and every seed stays crash-free). In a PANTAU_FUZZ=ON (clang)
#     build it is a libFuzzer binary; the normal build's ctest then runs it
#     for PANTAU_FUZZ_SECONDS when PANTAU_FUZZ_BUILD_DIR holds it.

function(pantau_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(pantau_test name)
  if(NOT PANTAU_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
      PANTAU_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()

function(pantau_fuzz name)
  cmake_parse_arguments(ARG "" "SRC;CORPUS" "DEPS" ${ARGN})
  if(PANTAU_FUZZ)
    add_executable(${name} ${ARG_SRC})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set_property(GLOBAL APPEND PROPERTY PANTAU_FUZZERS ${name})
    return()
  endif()
  if(NOT PANTAU_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SRC} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(ARG_CORPUS)
    set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_CORPUS})
  else()
    set(corpus "")
  endif()
  add_test(NAME fuzz_replay.${name} COMMAND ${name} ${corpus})
  set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz TIMEOUT 120)
  # The libFuzzer run: the binary lives at the same relative path in the
  # fuzz build tree. Exit code 77 marks it skipped when there is none.
  file(RELATIVE_PATH rel ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR})
  add_test(NAME fuzz.${name}
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/run-fuzzer
                   "${PANTAU_FUZZ_BUILD_DIR}/${rel}/${name}"
                   ${PANTAU_FUZZ_SECONDS} ${corpus})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz SKIP_RETURN_CODE 77
                       TIMEOUT 300)
endfunction()
