#pragma once
// The table of dense-factorization kernels one instruction-set variant provides
// (dense_kernels_variant.cpp), on raw column-major storage: no Eigen type crosses between
// variants. Used through theory/dense_kernels.hpp.
namespace kernelsweep {

struct DenseKernels {
  bool (*cholesky)(double* a, long n);                              // lower triangle, in place
  void (*cholesky_solve)(const double* factor, long n, double* b);  // b in place
  void (*lu)(double* a, long n, int* row_of);                       // in place; P A = L U
  void (*lu_solve)(const double* factor, const int* row_of, long n, double* b);
  // Lowest eigenvalue of the symmetric a (lower triangle read) and, when vector is not null, a
  // unit eigenvector of it.
  void (*lowest_eigenpair)(const double* a, long n, double* value, double* vector);
};

}  // namespace kernelsweep
