#pragma once
// Dense factorizations of the theory's n x n systems (n = packed kernel entries: ~530 at T = 8),
// the state search's dominant cost: Cholesky (positive-definiteness checks of the Hessian of F,
// the Levenberg-Marquardt steps) and LU with partial pivoting (the continuation's Newton steps).
// Eigen's, compiled once per instruction-set variant like the SGLD kernels (random/cpu_dispatch:
// AVX2 + FMA factor a 528 x 528 matrix 2-3 times faster than the SSE2 baseline); KERNELSWEEP_ISA
// picks a lower variant, e.g. for the same bits on every node of a cluster with mixed CPUs.
#include <Eigen/Core>
#include <vector>

#include "random/cpu_dispatch.hpp"
#include "theory/dense_kernel_table.hpp"

namespace kernelsweep {

// An n x n column-major matrix on 64-byte aligned storage: the kernels then factor and solve in
// place (on other buffers they work on a copy, dense_kernel_variant.cpp says why).
class AlignedSquare {
 public:
  void assign(const Eigen::MatrixXd& A);
  long n() const { return n_; }
  double* data() { return lines_.empty() ? nullptr : lines_.front().value; }
  const double* data() const { return lines_.empty() ? nullptr : lines_.front().value; }

 private:
  struct alignas(64) Line {
    double value[8];
  };
  std::vector<Line> lines_;
  long n_ = 0;
};

// A = L L^T, like Eigen::LLT.
class DenseCholesky {
 public:
  // False when A is not positive definite. A is read through its lower triangle.
  bool compute(const Eigen::MatrixXd& A);
  // The same for A + shift I.
  bool compute_shifted(const Eigen::MatrixXd& A, double shift);
  // A x = b; the last compute must have succeeded.
  Eigen::VectorXd solve(const Eigen::VectorXd& b) const;

 private:
  AlignedSquare factor_;
  bool valid_ = false;
};

// Factors A in place (its lower triangle becomes L); false when A is not positive definite.
bool cholesky_in_place(Eigen::MatrixXd* A);

// P A = L U, like Eigen::PartialPivLU.
class DenseLu {
 public:
  void compute(const Eigen::MatrixXd& A);
  Eigen::VectorXd solve(const Eigen::VectorXd& b) const;

 private:
  AlignedSquare factor_;
  std::vector<int> row_of_;  // row i of P A is row row_of_[i] of A
};

// Lowest eigenvalue of the symmetric A and (vector not null) a unit eigenvector, like
// Eigen::SelfAdjointEigenSolver's first pair.
double lowest_eigenpair(const Eigen::MatrixXd& A, Eigen::VectorXd* vector = nullptr);

// A^{-1} and log det A of the symmetric positive-definite A (lower triangle read), like
// Eigen::LLT's solve of the identity; false (outputs untouched) when A is not positive definite.
bool spd_inverse(const Eigen::MatrixXd& A, Eigen::MatrixXd* inverse, double* logdet);
// X Y X.
Eigen::MatrixXd sandwich(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y);

// The selected variant's kernels.
const DenseKernels& dense_kernels();
// Those of `isa`, or null when this build or CPU lacks it (for tests).
const DenseKernels* dense_kernels_for(KernelIsa isa);

}  // namespace kernelsweep
