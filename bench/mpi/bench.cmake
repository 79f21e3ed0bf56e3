# `cmake --build <dir> --target bench_mpi`: parallel efficiency of `kernelsweep run` with R ranks
# versus one process, on cheap theory points and on SGLD points (writes bench_mpi.json).
add_custom_target(bench_mpi
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/parallel_efficiency $<TARGET_FILE:kernelsweep> ${CMAKE_BINARY_DIR}/bench_mpi
  DEPENDS kernelsweep
  USES_TERMINAL)

# `coordinator_sim --table`: discrete-event simulation of the coordinator at R = 64, 1024, 8192
# with the per-message costs measured by `kernelsweep run --stats` (see docs/coordinator-scaling.md).
# A benchmark tool, not a test: built with the project, run by hand.
add_executable(coordinator_sim ${CMAKE_CURRENT_LIST_DIR}/coordinator_sim.cpp)
target_link_libraries(coordinator_sim PRIVATE nlohmann_json::nlohmann_json kernelsweep_warnings)

# `record_cost`: what recording one batch of points costs (journal fsync + HDF5), by batch size.
add_executable(record_cost ${CMAKE_CURRENT_LIST_DIR}/record_cost.cpp)
target_link_libraries(record_cost PRIVATE kernelsweep_io kernelsweep_warnings)

# `line_schedule SWEEP.yaml`: every task of a theory sweep's plan (lam-line segments) timed on one
# core, then the coordinator's dispatch order replayed over W workers: the efficiency the unit of
# work allows.
add_executable(line_schedule ${CMAKE_CURRENT_LIST_DIR}/line_schedule.cpp)
target_link_libraries(line_schedule PRIVATE kernelsweep_sweep kernelsweep_warnings)
