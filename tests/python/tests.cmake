# The Python package (python/kernelsweep) against the executable's results: pytest, run with the
# interpreter the package was built for, importing it from the build tree.
if(TARGET kernelsweep_python)
  add_test(NAME python_package
           COMMAND ${KERNELSWEEP_PYTHON_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python)
  set_tests_properties(python_package PROPERTIES LABELS "python" TIMEOUT 300
    ENVIRONMENT "PYTHONPATH=${CMAKE_BINARY_DIR}/python;KERNELSWEEP_BINARY=$<TARGET_FILE:kernelsweep>;OMP_NUM_THREADS=1")
endif()
