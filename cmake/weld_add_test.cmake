# weld_add_test(<name> SOURCES ... [LABELS ...]) adds a GoogleTest binary registered in CTest.
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

function(weld_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LABELS;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main GTest::gmock)
  # GoogleTest, GoogleMock and nlohmann::json (through tests/support/tiny_model.h) take
  # about two seconds each to parse, in every test file.
  target_precompile_headers(${name} PRIVATE <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp>)
  weld_set_test_optimisation(${name})
  weld_set_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
