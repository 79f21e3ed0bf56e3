# tools/*: every script answers --help / -h with its usage and exit 0 and does nothing else.
find_program(KERNELSWEEP_BASH bash REQUIRED)
add_test(NAME tools_help COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/help_test.sh)
set_tests_properties(tools_help PROPERTIES LABELS "tools" TIMEOUT 60)

# The instruction-set variants of the hot kernels share no symbol (see the script).
if(KERNELSWEEP_ISA_DISPATCH)
  set(variant_objects "")
  foreach(library ${KERNELSWEEP_VARIANT_OBJECT_LIBRARIES})
    list(APPEND variant_objects $<TARGET_OBJECTS:${library}>)
  endforeach()
  add_test(NAME tools_isa_variants
           COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/isa_variants_test.sh ${variant_objects})
  set_tests_properties(tools_isa_variants PROPERTIES LABELS "tools" TIMEOUT 60)
endif()

# Every instruction-set variant this CPU runs, against Random123 and plain loops.
kernelsweep_test(tools_isa_dispatch_test ${CMAKE_CURRENT_SOURCE_DIR}/tools/isa_dispatch_test.cpp)

# tools/plot: every figure type rendered from small real files (needs python3-matplotlib, -h5py).
add_test(NAME tools_plot COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/plot_test.sh $<TARGET_FILE:kernelsweep>)
set_tests_properties(tools_plot PROPERTIES LABELS "tools" TIMEOUT 400)

# cmake --install into a temporary prefix, then the installed files are used.
add_test(NAME tools_install COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/install_test.sh
         ${CMAKE_BINARY_DIR} "$<$<TARGET_EXISTS:kernelsweep_python>:${KERNELSWEEP_PYTHON_EXECUTABLE}>")
set_tests_properties(tools_install PROPERTIES LABELS "tools" TIMEOUT 120)

# The README's key and field tables equal the program's own tables.
add_test(NAME readme_tables COMMAND ${KERNELSWEEP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tools/readme_tables_test.sh
                                    $<TARGET_FILE:kernelsweep> ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(readme_tables PROPERTIES LABELS "tools" TIMEOUT 60)
