kernelsweep_test(sweep_spec_test ${CMAKE_CURRENT_LIST_DIR}/sweep_spec_test.cpp)
kernelsweep_test(result_fields_test ${CMAKE_CURRENT_LIST_DIR}/result_fields_test.cpp)
kernelsweep_test(theory_lines_test ${CMAKE_CURRENT_LIST_DIR}/theory_lines_test.cpp)
