# tools/*: every script answers --help / -h with its usage and exit 0 and does nothing else.
find_program(KERNELSWEEP_BASH bash REQUIRED)
add_test(NAME tools_help COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/help_test.sh)
set_tests_properties(tools_help PROPERTIES LABELS "tools" TIMEOUT 60)
