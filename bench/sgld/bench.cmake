# SGLD: machine ceilings (bandwidth, normal generator) for the roofline of `kernelsweep bench sgld`.
add_executable(sgld_machine_bench ${CMAKE_CURRENT_SOURCE_DIR}/sgld/machine_bench.cpp)
target_link_libraries(sgld_machine_bench PRIVATE kernelsweep_sgld benchmark::benchmark kernelsweep_warnings)
