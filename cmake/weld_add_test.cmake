# weld_add_test(<name> SOURCES ... [LIBS ...] [HEADERS_FROM <target>]) adds a
# GoogleTest binary registered in CTest.
include(GoogleTest)

# The library under test keeps the build's optimisation; the test code itself only has to
# compile fast, and most of a CI run is compiling tests: -O1 in an optimised build (a third
# less compile time than -O3), -O0 under the sanitizers (half the time of -O1).
function(weld_set_test_optimisation target)
  if(WELD_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  elseif(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo)$")
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()

# GoogleTest, GoogleMock and nlohmann::json (through tests/support/tiny_model.h) take about
# two seconds each to parse: precompiled once, in <target>, for every test binary.
function(weld_precompile_test_headers target)
  target_precompile_headers(${target} PRIVATE <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp>)
endfunction()

function(weld_add_test name)
  cmake_parse_arguments(ARG "" "HEADERS_FROM" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main GTest::gmock)
  # A test file costs seconds of parsing for a few milliseconds of its own code, so each
  # binary compiles as one translation unit: a tenth of the time of one per file.
  set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
  if(ARG_HEADERS_FROM)
    target_precompile_headers(${name} REUSE_FROM ${ARG_HEADERS_FROM})
  else()
    weld_precompile_test_headers(${name})
  endif()
  weld_set_test_optimisation(${name})
  weld_set_warnings(${name})
  # A test that hangs (a deadlock) fails by itself, not by the whole CI run's time limit.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
