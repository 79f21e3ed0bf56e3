#pragma once
// The table of dense-factorization kernels one instruction-set variant provides
// (dense_kernels_variant.cpp), on raw column-major storage: no Eigen type crosses between
// variants. Used through theory/dense_kernels.hpp.
namespace kernelsweep {

// One term of a packed outer-product sum (DenseKernels::packed_outer_sum): M x M column-major X
// and Y, and the bounds outside which the term vanishes (columns i, j of X and Y; rows k, l).
struct PackedOuterTerm {
  const double* X = nullptr;
  const double* Y = nullptr;
  long live_columns = 0;  // zero unless i, j < live_columns
  long live_rows = 0;     // zero unless l < live_rows
};

struct DenseKernels {
  bool (*cholesky)(double* a, long n);                              // lower triangle, in place
  void (*cholesky_solve)(const double* factor, long n, double* b);  // b in place
  void (*lu)(double* a, long n, int* row_of);                       // in place; P A = L U
  void (*lu_solve)(const double* factor, const int* row_of, long n, double* b);
  // Lowest eigenvalue of the symmetric a (lower triangle read) and, when vector is not null, a
  // unit eigenvector of it.
  void (*lowest_eigenpair)(const double* a, long n, double* value, double* vector);
  // J(r, c) for r >= c (the rest untouched) of the n x n column-major J with
  //   J(r, c) = sum_m X_m(k, i) Y_m(l, j) + [i != j] X_m(k, j) Y_m(l, i),
  // (k, l) = (first[r], second[r]), (i, j) = (first[c], second[c]); the n entries satisfy
  // first <= second and are sorted by (second, first).
  // The inverse of the symmetric positive-definite a (lower triangle read) and log det a; false
  // (inverse untouched) when a has no Cholesky factor.
  bool (*spd_inverse)(const double* a, long n, double* inverse, double* logdet);
  // out = x y x (n x n, column-major; out distinct from x and y).
  void (*sandwich)(const double* x, const double* y, long n, double* out);
  void (*packed_outer_sum)(long M, int terms, const PackedOuterTerm* t, long n, const int* first,
                           const int* second, double* J);
};

}  // namespace kernelsweep
