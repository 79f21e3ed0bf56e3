add_executable(theory_bench ${CMAKE_CURRENT_SOURCE_DIR}/theory/theory_bench.cpp)
target_link_libraries(theory_bench PRIVATE kernelsweep_theory benchmark::benchmark kernelsweep_warnings)
set_target_properties(theory_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
