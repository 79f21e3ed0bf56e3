#include "theory/dense_kernels.hpp"

#include <algorithm>
#include <cassert>

namespace kernelsweep {

namespace theory_kernels {
// Defined in dense_kernels_variant.cpp, once per variant built.
const DenseKernels& dense_kernels_baseline();
#if defined(KERNELSWEEP_ISA_VARIANTS)
const DenseKernels& dense_kernels_avx2();
const DenseKernels& dense_kernels_avx512();
#endif
}  // namespace theory_kernels

const DenseKernels* dense_kernels_for(KernelIsa isa) {
  if (!kernel_isa_available(isa)) return nullptr;
  switch (isa) {
#if defined(KERNELSWEEP_ISA_VARIANTS)
    case KernelIsa::avx512:
      return &theory_kernels::dense_kernels_avx512();
    case KernelIsa::avx2:
      return &theory_kernels::dense_kernels_avx2();
#endif
    case KernelIsa::baseline:
      return &theory_kernels::dense_kernels_baseline();
    default:
      return nullptr;
  }
}

const DenseKernels& dense_kernels() {
  static const DenseKernels& table = *dense_kernels_for(kernel_isa());
  return table;
}

bool cholesky_in_place(Eigen::MatrixXd* A) {
  assert(A->rows() == A->cols());
  return A->rows() == 0 || dense_kernels().cholesky(A->data(), A->rows());
}

void AlignedSquare::assign(const Eigen::MatrixXd& A) {
  assert(A.rows() == A.cols());
  n_ = A.rows();
  const std::size_t size = static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_);
  lines_.resize((size + 7) / 8);  // keeps its storage when the size is unchanged
  std::copy(A.data(), A.data() + size, data());
}

// A failed attempt keeps the storage: the Levenberg-Marquardt loop retries at once with a shift.
bool DenseCholesky::compute(const Eigen::MatrixXd& A) {
  return compute_shifted(A, 0.0);
}

bool DenseCholesky::compute_shifted(const Eigen::MatrixXd& A, double shift) {
  factor_.assign(A);
  const long n = factor_.n();
  for (long k = 0; k < n; ++k) factor_.data()[k * n + k] += shift;
  valid_ = n == 0 || dense_kernels().cholesky(factor_.data(), n);
  return valid_;
}

Eigen::VectorXd DenseCholesky::solve(const Eigen::VectorXd& b) const {
  assert(valid_ && factor_.n() == b.size());
  Eigen::VectorXd x = b;
  if (x.size() > 0) dense_kernels().cholesky_solve(factor_.data(), factor_.n(), x.data());
  return x;
}

void DenseLu::compute(const Eigen::MatrixXd& A) {
  factor_.assign(A);
  row_of_.assign(static_cast<std::size_t>(A.rows()), 0);
  if (A.rows() > 0) dense_kernels().lu(factor_.data(), factor_.n(), row_of_.data());
}

Eigen::VectorXd DenseLu::solve(const Eigen::VectorXd& b) const {
  assert(factor_.n() == b.size());
  Eigen::VectorXd x = b;
  if (x.size() > 0) dense_kernels().lu_solve(factor_.data(), row_of_.data(), factor_.n(), x.data());
  return x;
}

double lowest_eigenpair(const Eigen::MatrixXd& A, Eigen::VectorXd* vector) {
  assert(A.rows() == A.cols() && A.rows() > 0);
  double value = 0.0;
  if (vector) vector->resize(A.rows());
  dense_kernels().lowest_eigenpair(A.data(), A.rows(), &value, vector ? vector->data() : nullptr);
  return value;
}

bool spd_inverse(const Eigen::MatrixXd& A, Eigen::MatrixXd* inverse, double* logdet) {
  assert(A.rows() == A.cols());
  Eigen::MatrixXd out(A.rows(), A.cols());
  double value = 0.0;
  if (A.rows() > 0 && !dense_kernels().spd_inverse(A.data(), A.rows(), out.data(), &value))
    return false;
  *inverse = std::move(out);
  *logdet = value;
  return true;
}

Eigen::MatrixXd sandwich(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) {
  assert(X.rows() == X.cols() && Y.rows() == X.rows() && Y.cols() == X.cols());
  Eigen::MatrixXd out(X.rows(), X.cols());
  if (X.rows() > 0) dense_kernels().sandwich(X.data(), Y.data(), X.rows(), out.data());
  return out;
}


}  // namespace kernelsweep
