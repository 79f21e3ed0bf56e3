// The dense factorizations of every instruction-set variant this build and CPU have: solves
// against the matrix itself (residuals at rounding level), positive-definiteness decided like
// Eigen's LLT, pivoting where the leading entry vanishes, and the variants agreeing with each
// other.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "theory/dense_kernels.hpp"

using namespace kernelsweep;

namespace {

Eigen::MatrixXd random_matrix(int n, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd A(n, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) A(i, j) = normal(random);
  return A;
}

std::vector<const DenseKernels*> available_variants() {
  std::vector<const DenseKernels*> out;
  for (KernelIsa isa : {KernelIsa::baseline, KernelIsa::avx2, KernelIsa::avx512})
    if (const DenseKernels* k = dense_kernels_for(isa)) out.push_back(k);
  return out;
}

double relative_residual(const Eigen::MatrixXd& A, const Eigen::VectorXd& x,
                         const Eigen::VectorXd& b) {
  return (A * x - b).norm() / (A.norm() * x.norm());
}

}  // namespace

TEST(DenseKernels, EveryVariantSolvesPositiveDefiniteAndGeneralSystems) {
  const int n = 300;  // beyond Eigen's blocking size, so the blocked paths run
  const Eigen::MatrixXd B = random_matrix(n, 1);
  const Eigen::MatrixXd spd = B * B.transpose() / n + 0.1 * Eigen::MatrixXd::Identity(n, n);
  Eigen::MatrixXd general = random_matrix(n, 2);
  general(0, 0) = 0.0;  // no factorization without a row exchange
  const Eigen::VectorXd b = random_matrix(n, 3).col(0);
  const auto variants = available_variants();
  ASSERT_FALSE(variants.empty());
  std::vector<Eigen::VectorXd> cholesky_x, lu_x;
  for (const DenseKernels* k : variants) {
    Eigen::MatrixXd factor = spd;
    ASSERT_TRUE(k->cholesky(factor.data(), n));
    Eigen::VectorXd x = b;
    k->cholesky_solve(factor.data(), n, x.data());
    EXPECT_LT(relative_residual(spd, x, b), 1e-14);
    cholesky_x.push_back(x);

    factor = general;
    std::vector<int> row_of(n);
    k->lu(factor.data(), n, row_of.data());
    x = b;
    k->lu_solve(factor.data(), row_of.data(), n, x.data());
    EXPECT_LT(relative_residual(general, x, b), 1e-13);
    lu_x.push_back(x);
  }
  // Variants differ only in rounding (FMA, vector width).
  for (std::size_t v = 1; v < variants.size(); ++v) {
    EXPECT_LT((cholesky_x[v] - cholesky_x[0]).norm() / cholesky_x[0].norm(), 1e-10);
    EXPECT_LT((lu_x[v] - lu_x[0]).norm() / lu_x[0].norm(), 1e-10);
  }
}

// Positive definite or not, as Eigen's LLT decides: an SPD matrix shifted by -(lambda_min +/- eps).
TEST(DenseKernels, CholeskyRefusesWhatIsNotPositiveDefinite) {
  const int n = 200;
  const Eigen::MatrixXd B = random_matrix(n, 4);
  const Eigen::MatrixXd spd = B * B.transpose() / n + 0.1 * Eigen::MatrixXd::Identity(n, n);
  const double lambda_min = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(spd).eigenvalues()(0);
  ASSERT_GT(lambda_min, 0.05);
  DenseCholesky cholesky;
  EXPECT_TRUE(cholesky.compute_shifted(spd, -0.9 * lambda_min));
  EXPECT_FALSE(cholesky.compute_shifted(spd, -1.1 * lambda_min));
  Eigen::MatrixXd indefinite = spd;
  indefinite(n / 2, n / 2) = -1.0;
  EXPECT_FALSE(cholesky.compute(indefinite));
  EXPECT_FALSE(cholesky_in_place(&indefinite));
  for (const DenseKernels* k : available_variants()) {
    Eigen::MatrixXd a = spd - 1.1 * lambda_min * Eigen::MatrixXd::Identity(n, n);
    EXPECT_FALSE(k->cholesky(a.data(), n));
  }
  // After a successful compute the class solves with that factor.
  ASSERT_TRUE(cholesky.compute(spd));
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1.0, 1.0);
  EXPECT_LT(relative_residual(spd, cholesky.solve(b), b), 1e-14);
  DenseLu lu;
  lu.compute(spd);
  EXPECT_LT(relative_residual(spd, lu.solve(b), b), 1e-14);
}

// A = Q diag(d) Q^T with a known spectrum: every variant finds min d and its eigenvector.
TEST(DenseKernels, LowestEigenpairOfAKnownSpectrum) {
  const int n = 150;
  const Eigen::MatrixXd Q =
      Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(n, 5)).householderQ();
  Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(n, -0.5, 3.0);
  std::swap(d(0), d(n / 3));  // the lowest not first
  const Eigen::MatrixXd A = Q * d.asDiagonal() * Q.transpose();
  for (const DenseKernels* k : available_variants()) {
    double value = 0.0;
    Eigen::VectorXd v(n);
    k->lowest_eigenpair(A.data(), n, &value, v.data());
    EXPECT_NEAR(value, -0.5, 1e-12);
    EXPECT_NEAR(v.norm(), 1.0, 1e-12);
    EXPECT_NEAR(std::abs(v.dot(Q.col(n / 3))), 1.0, 1e-10);
    double value_only = 0.0;
    k->lowest_eigenpair(A.data(), n, &value_only, nullptr);
    EXPECT_NEAR(value_only, -0.5, 1e-12);
  }
  Eigen::VectorXd v;
  EXPECT_NEAR(lowest_eigenpair(A, &v), -0.5, 1e-12);
  EXPECT_LT((A * v + 0.5 * v).norm(), 1e-12);
}

// The inverse of an SPD matrix with a known spectrum (Q diag(d) Q^T: inverse Q diag(1/d) Q^T, log
// det = sum log d), refused when one eigenvalue is negative; X Y X against the plain product.
TEST(DenseKernels, EveryVariantInvertsPositiveDefiniteMatricesAndFormsSandwiches) {
  for (int n : {7, 32, 150}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Eigen::MatrixXd Q =
        Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(n, 11)).householderQ();
    Eigen::VectorXd d(n);
    for (int k = 0; k < n; ++k) d(k) = 0.05 + 0.1 * k;
    const Eigen::MatrixXd A = Q * d.asDiagonal() * Q.transpose();
    const Eigen::MatrixXd expected = Q * d.cwiseInverse().asDiagonal() * Q.transpose();
    const Eigen::MatrixXd Y = random_matrix(n, 12);
    for (const DenseKernels* k : available_variants()) {
      Eigen::MatrixXd inverse(n, n);
      double logdet = 0.0;
      ASSERT_TRUE(k->spd_inverse(A.data(), n, inverse.data(), &logdet));
      EXPECT_LT((inverse - expected).norm(), 1e-12 * expected.norm());
      EXPECT_NEAR(logdet, d.array().log().sum(), 1e-11 * n);
      Eigen::MatrixXd out(n, n);
      k->sandwich(A.data(), Y.data(), n, out.data());
      const Eigen::MatrixXd plain = A * Y * A;
      EXPECT_LT((out - plain).norm(), 1e-13 * plain.norm());
      Eigen::VectorXd indefinite = d;
      indefinite(n / 2) = -0.01;
      const Eigen::MatrixXd B = Q * indefinite.asDiagonal() * Q.transpose();
      Eigen::MatrixXd untouched = Eigen::MatrixXd::Constant(n, n, 3.0);
      EXPECT_FALSE(k->spd_inverse(B.data(), n, untouched.data(), &logdet));
      EXPECT_EQ(untouched, Eigen::MatrixXd::Constant(n, n, 3.0));
    }
  }
}

// The kernels' bits do not depend on where the caller's buffers sit: a serial and an MPI process
// allocate at different addresses (MpiSweep.SerialAndMpiRunsOfTheTheoryAreBitIdentical). Every
// kernel of every variant on copies of the same data at the eight 8-byte offsets of a 64-byte
// line, for sizes below and above Eigen's blocking and GEMM thresholds.
TEST(DenseKernels, ResultsDoNotDependOnTheBuffersAlignment) {
  for (int n : {5, 6, 9, 45, 136, 300}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Eigen::MatrixXd B = random_matrix(n, 21);
    const Eigen::MatrixXd spd = B * B.transpose() / n + 0.5 * Eigen::MatrixXd::Identity(n, n);
    const Eigen::MatrixXd general = random_matrix(n, 22);
    const Eigen::VectorXd b = random_matrix(n, 23).col(0);
    const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    for (const DenseKernels* k : available_variants()) {
      std::vector<std::vector<double>> reference;
      for (std::size_t offset = 0; offset < 8; ++offset) {
        // 64-byte aligned storage, used from `offset` doubles on.
        std::vector<double> storage(4 * size + 4 * static_cast<std::size_t>(n) + 64);
        double* base = storage.data();
        while (reinterpret_cast<std::uintptr_t>(base) % 64 != 0) ++base;
        base += offset;
        double* a = base;
        double* x = a + size;
        double* c = x + n;
        double* d = c + size;
        std::vector<double> results;
        // Cholesky and its solve.
        std::copy(spd.data(), spd.data() + size, a);
        std::copy(b.data(), b.data() + n, x);
        ASSERT_TRUE(k->cholesky(a, n));
        k->cholesky_solve(a, n, x);
        results.insert(results.end(), x, x + n);
        // LU and its solve.
        std::vector<int> rows(static_cast<std::size_t>(n));
        std::copy(general.data(), general.data() + size, a);
        std::copy(b.data(), b.data() + n, x);
        k->lu(a, n, rows.data());
        k->lu_solve(a, rows.data(), n, x);
        results.insert(results.end(), x, x + n);
        // SPD inverse and the sandwich.
        std::copy(spd.data(), spd.data() + size, a);
        double logdet = 0.0;
        ASSERT_TRUE(k->spd_inverse(a, n, c, &logdet));
        results.insert(results.end(), c, c + size);
        results.push_back(logdet);
        std::copy(general.data(), general.data() + size, d);
        k->sandwich(c, d, n, a);
        results.insert(results.end(), a, a + size);
        // The lowest eigenpair.
        std::copy(spd.data(), spd.data() + size, a);
        double value = 0.0;
        k->lowest_eigenpair(a, n, &value, x);
        results.push_back(value);
        results.insert(results.end(), x, x + n);
        if (offset == 0) {
          reference.push_back(results);
          continue;
        }
        ASSERT_EQ(results.size(), reference.front().size());
        for (std::size_t q = 0; q < results.size(); ++q)
          if (results[q] != reference.front()[q]) {
            ADD_FAILURE() << "offset " << offset << " doubles, result entry " << q << " of "
                          << results.size() << " (n = " << n << ")";
            break;
          }
      }
    }
  }
}
