# cmake --install BUILD [--prefix PREFIX]: the executable, the tools and job templates, example
# sweeps, the documentation and the Python package. Layout under PREFIX:
#   bin/kernelsweep, bin/kernelsweep-submit, bin/kernelsweep-plot
#   share/kernelsweep/{tools,slurm,sweeps}       (tools find the templates beside them)
#   share/doc/kernelsweep/                       (README, LICENSE, CITATION.cff, docs/)
#   KERNELSWEEP_PYTHON_INSTALL_DIR/kernelsweep/  (default lib/python3.X/site-packages)
include(GNUInstallDirs)
install(TARGETS kernelsweep RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(KERNELSWEEP_SHARE ${CMAKE_INSTALL_DATADIR}/kernelsweep)
install(PROGRAMS tools/submit tools/plot tools/slurm-local DESTINATION ${KERNELSWEEP_SHARE}/tools)
install(FILES slurm/single-node.sbatch slurm/multi-node.sbatch DESTINATION ${KERNELSWEEP_SHARE}/slurm)
install(DIRECTORY sweeps/ DESTINATION ${KERNELSWEEP_SHARE}/sweeps FILES_MATCHING PATTERN "*.yaml")
install(FILES README.md LICENSE CITATION.cff DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
# bin/kernelsweep-submit and bin/kernelsweep-plot: relative symlinks to the tools (which resolve
# their own location to find ../slurm).
foreach(tool submit plot)
  install(CODE "
    set(link \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/kernelsweep-${tool}\")
    file(REMOVE \"\${link}\")
    file(RELATIVE_PATH target \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\"
         \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${KERNELSWEEP_SHARE}/tools/${tool}\")
    file(CREATE_LINK \"\${target}\" \"\${link}\" SYMBOLIC)
    message(STATUS \"Installing: \${link} -> \${target}\")")
endforeach()
if(TARGET kernelsweep_python)
  install(TARGETS kernelsweep_python LIBRARY DESTINATION ${KERNELSWEEP_PYTHON_INSTALL_DIR}/kernelsweep)
  install(DIRECTORY python/kernelsweep/ DESTINATION ${KERNELSWEEP_PYTHON_INSTALL_DIR}/kernelsweep
          FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
endif()
