// Eigen's dense factorizations, compiled once per instruction-set variant: CMake builds this file
// with -DKERNELSWEEP_VARIANT=<name>, that variant's flags and -DEigen=Eigen_<name>, so every Eigen
// template instantiated here lives in a namespace of its own and the linker can never hand one
// variant's copy to another (tests/tools/isa_variants_test.sh checks the objects for that). Only
// raw pointers cross into the rest of the program.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>

#include "theory/dense_kernel_table.hpp"

#ifndef KERNELSWEEP_VARIANT
#error "build with -DKERNELSWEEP_VARIANT=<variant name>"
#endif

namespace kernelsweep::theory_kernels::KERNELSWEEP_VARIANT {

using Matrix = Eigen::Map<Eigen::MatrixXd>;
using ConstMatrix = Eigen::Map<const Eigen::MatrixXd>;
using Vector = Eigen::Map<Eigen::VectorXd>;

bool cholesky(double* a, long n) {
  Matrix A(a, n, n);
  const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(A);  // in place
  return llt.info() == Eigen::Success;
}

void cholesky_solve(const double* factor, long n, double* b) {
  const ConstMatrix L(factor, n, n);
  Vector x(b, n);
  L.triangularView<Eigen::Lower>().solveInPlace(x);
  L.triangularView<Eigen::Lower>().adjoint().solveInPlace(x);
}

void lu(double* a, long n, int* row_of) {
  Matrix A(a, n, n);
  const Eigen::PartialPivLU<Eigen::Ref<Eigen::MatrixXd>> lu(A);  // in place
  // P A = L U with P^{-1} = P^T: row i of P A is row row_of[i] of A.
  const auto& p = lu.permutationP().indices();
  for (long i = 0; i < n; ++i) row_of[p(i)] = static_cast<int>(i);
}

void lu_solve(const double* factor, const int* row_of, long n, double* b) {
  const ConstMatrix F(factor, n, n);
  Eigen::VectorXd x(n);
  for (long i = 0; i < n; ++i) x(i) = b[row_of[i]];
  F.triangularView<Eigen::UnitLower>().solveInPlace(x);
  F.triangularView<Eigen::Upper>().solveInPlace(x);
  Vector(b, n) = x;
}

void lowest_eigenpair(const double* a, long n, double* value, double* vector) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(
      ConstMatrix(a, n, n), vector ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  *value = eig.eigenvalues()(0);
  if (vector) Vector(vector, n) = eig.eigenvectors().col(0);
}

}  // namespace kernelsweep::theory_kernels::KERNELSWEEP_VARIANT

namespace kernelsweep::theory_kernels {
#define KERNELSWEEP_CONCAT2(a, b) a##b
#define KERNELSWEEP_CONCAT(a, b) KERNELSWEEP_CONCAT2(a, b)
const DenseKernels& KERNELSWEEP_CONCAT(dense_kernels_, KERNELSWEEP_VARIANT)() {
  static const DenseKernels table = {&KERNELSWEEP_VARIANT::cholesky,
                                     &KERNELSWEEP_VARIANT::cholesky_solve, &KERNELSWEEP_VARIANT::lu,
                                     &KERNELSWEEP_VARIANT::lu_solve,
                                     &KERNELSWEEP_VARIANT::lowest_eigenpair};
  return table;
}
}  // namespace kernelsweep::theory_kernels
