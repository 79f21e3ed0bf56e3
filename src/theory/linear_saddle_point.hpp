#pragma once
// Linear-phi kernel theory (docs/theory.md 3.1): the fixed-point map C -> (K^{-1} - C_hat)^{-1},
// its analytic derivative, Anderson-accelerated damped iteration, Newton on the residual R(C) =
// K^{-1} - C_hat - eps B - C^{-1} (optionally with the constraint q(C) = q0 and eps unknown, the
// constrained solve behind the Landau curve), the free energy and the stability of a fixed point.
#include <Eigen/Core>
#include <optional>
#include <string>

#include "theory/kernel_structure.hpp"

namespace kernelsweep {

// Everything the equations need at one C (for signal amplitude s and field eps).
struct LinearEvaluation {
  bool ok = false;  // K, v C_SS + kappa, K^{-1} - C_hat - eps B and C all positive definite
  // C, K and v C_SS + kappa positive definite: enough for F(C) (KL form) and the residual R(C).
  bool defined = false;
  std::string failure;
  Eigen::MatrixXd K, K_inv, G, C_hat, precision, next_C, C_inv;
  KernelStructure::Readout readout;
  double logdet_K = 0.0, logdet_precision = 0.0, logdet_C = 0.0;
  double fixed_point_residual = 0.0;  // |next_C - C|_F / |C|_F
};

LinearEvaluation evaluate_linear(const KernelStructure& s, const Eigen::MatrixXd& C,
                                 double amplitude, double field = 0.0);

// Directional derivatives at a valid evaluation: of R(C) and of the map C -> next_C.
Eigen::MatrixXd residual_derivative(const KernelStructure& s, const Eigen::MatrixXd& C,
                                    const LinearEvaluation& e, const Eigen::MatrixXd& dC);
Eigen::MatrixXd map_derivative(const KernelStructure& s, const Eigen::MatrixXd& C,
                               const LinearEvaluation& e, const Eigen::MatrixXd& dC);

// All columns dR/dC_k for the unit directions of `entries` (E_ij + E_ji, or E_ii), packed over
// `entries`: every term is a rank-2 outer product, so a column costs O(M^2), not O(M^3).
Eigen::MatrixXd residual_jacobian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                  const LinearEvaluation& e, const EntryList& entries);

// The lower triangle (row >= column) of the packed Hessian of F over `entries` (to_packed_hessian
// of residual_jacobian; the same numbers); the strict upper triangle is unspecified. Enough for a
// Cholesky or a symmetric eigensolver (both read the lower triangle only), at the cost of half the
// Jacobian's columns and no mirroring.
Eigen::MatrixXd packed_hessian_lower(const KernelStructure& s, const Eigen::MatrixXd& C,
                                     const LinearEvaluation& e, const EntryList& entries);

// J_R (from residual_jacobian over `entries`) -> the packed Hessian of F, in place: in packed
// coordinates (off-diagonal entries counted once) grad F = D pack(R) and Hess F = D J_R with D =
// 1/2 on diagonal entries (R = 2 dF/dC), symmetrized against rounding.
void to_packed_hessian(Eigen::MatrixXd* J, const EntryList& entries);

// F = 1/2 tr(C_hat C) - log Z + 1/2 y^T r with log Z = -1/2 logdet(I - K (C_hat + eps B)).
double linear_free_energy(const Eigen::MatrixXd& C, const LinearEvaluation& e);
// F(C) = KL(N(0,C) || N(0,K(C))) + 1/2 y^T r: the same number at every fixed point.
double linear_free_energy_kl(const Eigen::MatrixXd& C, const LinearEvaluation& e);

struct LinearSolveResult {
  Eigen::MatrixXd C;
  double field = 0.0;
  bool converged = false;
  bool breakdown = false;  // a matrix that must be positive definite was not
  double residual = 0.0;
  int iterations = 0;
  std::string message;
};

struct FixedPointOptions {
  double tolerance = 1e-12;
  int max_iterations = 400;
  double mixing = 0.7;      // damping a of C <- (1-a) C + a next_C
  int anderson_memory = 6;  // 0: plain damped iteration
};

LinearSolveResult iterate_fixed_point(const KernelStructure& s, const Eigen::MatrixXd& C0,
                                      double amplitude, const EntryList& entries,
                                      const FixedPointOptions& options);

struct NewtonOptions {
  double tolerance = 1e-12;
  int max_iterations = 30;
  double field = 0.0;
  std::optional<double> constrained_q;  // solve for eps with q(C) = *constrained_q
};

LinearSolveResult newton_solve(const KernelStructure& s, const Eigen::MatrixXd& C0,
                               double amplitude, const EntryList& entries,
                               const NewtonOptions& options);

// Tells, without factorizing, shifts s for which a Cholesky of H + s I (H symmetric, read through
// its lower triangle) must fail: an upper bound on lambda_min(H) from a short Lanczos run, against
// the Cholesky's backward-error bound. Lets minimize_free_energy skip hopeless attempts of its
// shift search (same shifts, same steps). Default-constructed: never certain.
class CholeskyFailureTest {
 public:
  CholeskyFailureTest() = default;
  // warm_start: a start vector (empty: a fixed one); receives the Ritz vector.
  CholeskyFailureTest(const Eigen::MatrixXd& H, Eigen::VectorXd* warm_start);
  bool certain(double shift) const;
  double lambda_min_upper_bound() const { return upper_bound_; }

 private:
  bool active_ = false;
  double upper_bound_ = 0.0, norm_ = 0.0, sqrt_n_ = 0.0, tolerance_ = 0.0;
};

// The first shift base * 2^k (k = 0, 1, 2, ...) at which H + shift I has a Cholesky factor (left in
// *llt): the shift the doubling base, 2 base, 4 base, ... finds, in about 2 log2(k) attempts
// instead of k + 1 (positive definiteness is monotone in the shift). Attempts that `fails` is
// certain of count as failures without a factorization.
class DenseCholesky;
double first_factorable_shift(const Eigen::MatrixXd& H, double base,
                              const CholeskyFailureTest& fails, DenseCholesky* llt);

struct MinimizeOptions {
  double tolerance = 1e-12;  // on the relative fixed-point residual
  int max_iterations = 200;
};

// Minimizes F(C) (KL form, a barrier function on positive-definite C whose gradient is R(C) / 2)
// from C0 over the packed entries by Newton steps with Levenberg-Marquardt shifts and a
// decreasing-F line search: from a perturbed saddle it descends to a minimum (the broken branch
// above lambda_c). Needs no positive definiteness of K^{-1} - C_hat along the way.
LinearSolveResult minimize_free_energy(const KernelStructure& s, const Eigen::MatrixXd& C0,
                                       double amplitude, const EntryList& entries,
                                       const MinimizeOptions& options);

// Largest real part among eigenvalues of the map's Jacobian on odd-lag perturbations at C: above 1
// the symmetric branch is unstable (section 3.2).
double odd_sector_instability(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude);

// Smallest eigenvalue of the Hessian of F(C) on odd-lag perturbations at a fixed point C. At a
// fixed point the map's Jacobian is I - (C . C) J_R with J_R the Hessian of 2F and (C . C) positive
// definite, so by Sylvester's law of inertia an odd-sector eigenvalue of the map exceeds 1 exactly
// when this is negative: the same criterion, at O(M^2) per column instead of O(M^3).
double odd_sector_hessian_minimum(const KernelStructure& s, const Eigen::MatrixXd& C,
                                  double amplitude);

// Smallest real part among eigenvalues of the map's Jacobian on even-lag perturbations at C: the
// stiff readout mode (strongly negative at strong signal) that bounds the usable damping.
double even_sector_stiffness(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude);

}  // namespace kernelsweep
