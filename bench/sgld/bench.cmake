# SGLD: machine ceilings (bandwidth, normal generator) for the roofline of `kernelsweep bench sgld`.
add_executable(sgld_machine_bench ${CMAKE_CURRENT_SOURCE_DIR}/sgld/machine_bench.cpp)
target_link_libraries(sgld_machine_bench PRIVATE kernelsweep_sgld benchmark::benchmark kernelsweep_warnings)
# One validation row of docs/sgld-validation.md (theory vs SGLD with every diagnostic).
add_executable(sgld_validation_point ${CMAKE_CURRENT_SOURCE_DIR}/sgld/validation_point.cpp)
target_link_libraries(sgld_validation_point PRIVATE kernelsweep_sgld kernelsweep_warnings)
# The curvature of the likelihood along a run, with and without the readout (Gibbs readout study).
add_executable(sgld_curvature_probe ${CMAKE_CURRENT_SOURCE_DIR}/sgld/curvature_probe.cpp)
target_link_libraries(sgld_curvature_probe PRIVATE kernelsweep_sgld kernelsweep_warnings)
# The cost of the convergence diagnostics relative to one SGLD step.
add_executable(sgld_diagnostics_cost ${CMAKE_CURRENT_SOURCE_DIR}/sgld/diagnostics_cost.cpp)
target_link_libraries(sgld_diagnostics_cost PRIVATE kernelsweep_sgld kernelsweep_warnings)
