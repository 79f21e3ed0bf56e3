# Theory tests link the theory library only; CLI tests run the kernelsweep binary.
function(kernelsweep_theory_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE kernelsweep_theory GTest::gtest_main kernelsweep_warnings)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/theory)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()

kernelsweep_theory_test(linear_theory_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/linear_theory_test.cpp)
kernelsweep_theory_test(phase_transition_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/phase_transition_test.cpp)
kernelsweep_theory_test(erf_theory_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/erf_theory_test.cpp)
kernelsweep_test(cli_point_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/cli_point_test.cpp)
kernelsweep_theory_test(stationary_states_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/stationary_states_test.cpp)
kernelsweep_theory_test(transition_test ${CMAKE_CURRENT_SOURCE_DIR}/theory/transition_test.cpp)
