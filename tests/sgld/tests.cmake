# SGLD replicas (docs/theory.md section 4).
find_package(OpenMP REQUIRED)
kernelsweep_test(sgld_normal_batch_test ${CMAKE_CURRENT_SOURCE_DIR}/sgld/normal_batch_test.cpp)
kernelsweep_test(sgld_gradient_test ${CMAKE_CURRENT_SOURCE_DIR}/sgld/gradient_test.cpp)
target_link_libraries(sgld_gradient_test PRIVATE OpenMP::OpenMP_CXX)
kernelsweep_test(sgld_statistics_test ${CMAKE_CURRENT_SOURCE_DIR}/sgld/statistics_test.cpp)
kernelsweep_test(sgld_reproducibility_test ${CMAKE_CURRENT_SOURCE_DIR}/sgld/reproducibility_test.cpp)
