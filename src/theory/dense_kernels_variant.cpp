// Eigen's dense factorizations, compiled once per instruction-set variant: CMake builds this file
// with -DKERNELSWEEP_VARIANT=<name>, that variant's flags and -DEigen=Eigen_<name>, so every Eigen
// template instantiated here lives in a namespace of its own and the linker can never hand one
// variant's copy to another (tests/tools/isa_variants_test.sh checks the objects for that). Only
// raw pointers cross into the rest of the program.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "theory/dense_kernel_table.hpp"

#ifndef KERNELSWEEP_VARIANT
#error "build with -DKERNELSWEEP_VARIANT=<variant name>"
#endif

namespace kernelsweep::theory_kernels::KERNELSWEEP_VARIANT {

using Matrix = Eigen::Map<Eigen::MatrixXd>;
using ConstMatrix = Eigen::Map<const Eigen::MatrixXd>;
using Vector = Eigen::Map<Eigen::VectorXd>;

// Eigen's vectorized loops and small products peel elements up to a buffer's alignment, so their
// last bits depend on where the buffer sits (a serial and an MPI process allocate at different
// addresses). Every kernel therefore computes on 64-byte aligned memory: the caller's, when it is
// (DenseCholesky and DenseLu keep their factors so), or a copy this variant owns (aligned to its
// packet size: the same peeling) -- tests/theory/dense_kernels_test.cpp checks all eight offsets.
bool line_aligned(const double* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 64 == 0;
}

bool cholesky(double* a, long n) {
  if (line_aligned(a)) {
    Matrix A(a, n, n);
    const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(A);  // in place
    return llt.info() == Eigen::Success;
  }
  Eigen::MatrixXd A = ConstMatrix(a, n, n);
  const bool ok = Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>>(A).info() == Eigen::Success;
  Matrix(a, n, n) = A;
  return ok;
}

void cholesky_solve(const double* factor, long n, double* b) {
  Eigen::MatrixXd copy;
  if (!line_aligned(factor)) copy = ConstMatrix(factor, n, n);
  const ConstMatrix L(line_aligned(factor) ? factor : copy.data(), n, n);
  Eigen::VectorXd x = Vector(b, n);
  L.triangularView<Eigen::Lower>().solveInPlace(x);
  L.triangularView<Eigen::Lower>().adjoint().solveInPlace(x);
  Vector(b, n) = x;
}

void lu(double* a, long n, int* row_of) {
  Eigen::MatrixXd copy;
  if (!line_aligned(a)) copy = ConstMatrix(a, n, n);
  Matrix A(line_aligned(a) ? a : copy.data(), n, n);
  const Eigen::PartialPivLU<Eigen::Ref<Eigen::MatrixXd>> lu(A);  // in place
  if (!line_aligned(a)) Matrix(a, n, n) = copy;
  // P A = L U with P^{-1} = P^T: row i of P A is row row_of[i] of A.
  const auto& p = lu.permutationP().indices();
  for (long i = 0; i < n; ++i) row_of[p(i)] = static_cast<int>(i);
}

void lu_solve(const double* factor, const int* row_of, long n, double* b) {
  Eigen::MatrixXd copy;
  if (!line_aligned(factor)) copy = ConstMatrix(factor, n, n);
  const ConstMatrix F(line_aligned(factor) ? factor : copy.data(), n, n);
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

// Eigen's small products (below its GEMM threshold: coefficient-wise, with reductions) and its
// vectorized loops peel elements up to the destination's alignment, and the caller's buffers are
// only 16-byte aligned (baseline Eigen): so the arithmetic here runs on matrices this variant owns
// (aligned to its packet size) and only exact copies touch the caller's memory. Otherwise the
// last bits depend on where malloc put a buffer, which differs between a serial and an MPI run.
bool spd_inverse(const double* a, long n, double* inverse, double* logdet) {
  const Eigen::MatrixXd A = ConstMatrix(a, n, n);
  const Eigen::LLT<Eigen::MatrixXd> llt(A);
  if (llt.info() != Eigen::Success) return false;
  // A^{-1} = L^{-T} L^{-1}: one triangular solve and one product (two solves cost more).
  Eigen::MatrixXd L_inv = Eigen::MatrixXd::Identity(n, n);
  llt.matrixL().solveInPlace(L_inv);
  const Eigen::MatrixXd result = L_inv.transpose() * L_inv;
  Matrix(inverse, n, n) = result;
  *logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  return true;
}

void sandwich(const double* x, const double* y, long n, double* out) {
  const Eigen::MatrixXd X = ConstMatrix(x, n, n), Y = ConstMatrix(y, n, n);
  const Eigen::MatrixXd result = X * Y * X;
  Matrix(out, n, n) = result;
}

// Column c: the upper triangle of the column's M x M matrix, one column l at a time (k <= l is
// contiguous in every X), over the live terms only, then the rows r >= c gathered from it. The
// k-loop runs in blocks of kLanes with the sum over terms in registers; the X are copied with
// their columns padded to a multiple of kLanes (zeros), so a block never reads past a column.
void packed_outer_sum(long M, int terms, const PackedOuterTerm* t, long n, const int* first,
                      const int* second, double* J) {
  constexpr long kLanes = 8;
  using Lanes = Eigen::Matrix<double, kLanes, 1>;
  const long ld = (M + kLanes - 1) / kLanes * kLanes;
  std::vector<double> padded(static_cast<std::size_t>(terms * ld * M), 0.0);
  for (int m = 0; m < terms; ++m)
    for (long col = 0; col < M; ++col)
      std::copy(t[m].X + col * M, t[m].X + (col + 1) * M, padded.data() + (m * M + col) * ld);
  std::vector<const double*> x(2 * static_cast<std::size_t>(terms)),
      y(2 * static_cast<std::size_t>(terms));
  std::vector<long> rows(2 * static_cast<std::size_t>(terms));
  std::vector<double> coefficients(2 * static_cast<std::size_t>(terms));
  std::vector<const double*> live(2 * static_cast<std::size_t>(terms));
  std::vector<double> triangle(static_cast<std::size_t>(ld));
  double* tri = triangle.data();
  for (long c = 0; c < n; ++c) {
    const long i = first[c], j = second[c];
    std::size_t q = 0;
    for (int m = 0; m < terms; ++m) {
      if (i >= t[m].live_columns || j >= t[m].live_columns) continue;
      const double* X = padded.data() + m * M * ld;
      x[q] = X + i * ld;
      y[q] = t[m].Y + j * M;
      rows[q++] = t[m].live_rows;
      if (i == j) continue;
      x[q] = X + j * ld;
      y[q] = t[m].Y + i * M;
      rows[q++] = t[m].live_rows;
    }
    double* out = J + c * n;
    for (long r = c; r < n;) {
      const long l = second[r];
      std::size_t active = 0;
      for (std::size_t p = 0; p < q; ++p) {
        if (l >= rows[p]) continue;
        live[active] = x[p];
        coefficients[active++] = y[p][l];
      }
      // Four independent sums (rows k0 .. k0 + 4 kLanes) hide the latency of the FMA chain.
      for (long k0 = 0; k0 <= l; k0 += 4 * kLanes) {
        if (k0 + 4 * kLanes <= ld) {
          Lanes s0 = Lanes::Zero(), s1 = Lanes::Zero(), s2 = Lanes::Zero(), s3 = Lanes::Zero();
          for (std::size_t p = 0; p < active; ++p) {
            const double* column = live[p] + k0;
            const double coefficient = coefficients[p];
            s0.noalias() += Eigen::Map<const Lanes>(column) * coefficient;
            s1.noalias() += Eigen::Map<const Lanes>(column + kLanes) * coefficient;
            s2.noalias() += Eigen::Map<const Lanes>(column + 2 * kLanes) * coefficient;
            s3.noalias() += Eigen::Map<const Lanes>(column + 3 * kLanes) * coefficient;
          }
          Eigen::Map<Lanes>(tri + k0) = s0;
          Eigen::Map<Lanes>(tri + k0 + kLanes) = s1;
          Eigen::Map<Lanes>(tri + k0 + 2 * kLanes) = s2;
          Eigen::Map<Lanes>(tri + k0 + 3 * kLanes) = s3;
          continue;
        }
        for (long b = k0; b <= l; b += kLanes) {
          Lanes sum = Lanes::Zero();
          for (std::size_t p = 0; p < active; ++p)
            sum.noalias() += Eigen::Map<const Lanes>(live[p] + b) * coefficients[p];
          Eigen::Map<Lanes>(tri + b) = sum;
        }
      }
      for (; r < n && second[r] == l; ++r) out[r] = tri[first[r]];
    }
  }
}

}  // namespace kernelsweep::theory_kernels::KERNELSWEEP_VARIANT

namespace kernelsweep::theory_kernels {
#define KERNELSWEEP_CONCAT2(a, b) a##b
#define KERNELSWEEP_CONCAT(a, b) KERNELSWEEP_CONCAT2(a, b)
const DenseKernels& KERNELSWEEP_CONCAT(dense_kernels_, KERNELSWEEP_VARIANT)() {
  static const DenseKernels table = {&KERNELSWEEP_VARIANT::cholesky,
                                     &KERNELSWEEP_VARIANT::cholesky_solve,
                                     &KERNELSWEEP_VARIANT::lu,
                                     &KERNELSWEEP_VARIANT::lu_solve,
                                     &KERNELSWEEP_VARIANT::lowest_eigenpair,
                                     &KERNELSWEEP_VARIANT::spd_inverse,
                                     &KERNELSWEEP_VARIANT::sandwich,
                                     &KERNELSWEEP_VARIANT::packed_outer_sum};
  return table;
}
}  // namespace kernelsweep::theory_kernels
