# `cmake --build <dir> --target bench_mpi`: parallel efficiency of `kernelsweep run` with R ranks
# versus one process, on cheap theory points and on SGLD points (writes bench_mpi.json).
add_custom_target(bench_mpi
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/parallel_efficiency $<TARGET_FILE:kernelsweep> ${CMAKE_BINARY_DIR}/bench_mpi
  DEPENDS kernelsweep
  USES_TERMINAL)
