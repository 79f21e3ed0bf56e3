# SLURM: tools/submit and the slurm/ templates (no SLURM needed), and the integration test on a
# real single-node SLURM started by tools/slurm-local (needs root to install and start daemons;
# reported as skipped, exit 77, only on a machine that cannot). Run alone with `ctest -L slurm`.
find_program(KERNELSWEEP_BASH bash REQUIRED)
add_test(NAME slurm_submit_dry_run
         COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/slurm/submit_dry_run_test.sh
                 $<TARGET_FILE:kernelsweep>)
set_tests_properties(slurm_submit_dry_run PROPERTIES LABELS "slurm" TIMEOUT 120)

add_test(NAME slurm_integration
         COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/slurm/slurm_integration_test.sh
                 $<TARGET_FILE:kernelsweep>)
# PROCESSORS 2: the test's jobs and its reference run use both cores; timing (SLURM time limits,
# requeue delays) is not asserted, but a loaded machine would stretch the run.
set_tests_properties(slurm_integration PROPERTIES
  LABELS "slurm;slurm_integration" TIMEOUT 900 SKIP_RETURN_CODE 77 PROCESSORS 2)

# The job script with the real binary under the real mpirun: SIGTERM to the job -> exit 75.
add_test(NAME slurm_mpirun_signal
         COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/slurm/mpirun_signal_test.sh
                 $<TARGET_FILE:kernelsweep>)
set_tests_properties(slurm_mpirun_signal PROPERTIES LABELS "slurm" TIMEOUT 300 SKIP_RETURN_CODE 77 PROCESSORS 2)
