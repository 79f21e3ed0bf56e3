#pragma once
// Linear-phi kernel theory (THEORY.md 3.1): the fixed-point map C -> (K^{-1} - C_hat)^{-1}, its
// analytic derivative, Anderson-accelerated damped iteration, Newton on the residual
// R(C) = K^{-1} - C_hat - eps B - C^{-1} (optionally with the constraint q(C) = q0 and eps unknown,
// the constrained solve behind the Landau curve), the free energy and the stability of a fixed point.
#include <Eigen/Core>
#include <optional>
#include <string>

#include "theory/kernel_structure.hpp"

namespace kernelsweep {

// Everything the equations need at one C (for signal amplitude s and field eps).
struct LinearEvaluation {
  bool ok = false;  // K, v C_SS + kappa, K^{-1} - C_hat - eps B and C all positive definite
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
  double mixing = 0.7;   // damping a of C <- (1-a) C + a next_C
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

// Largest real part among eigenvalues of the map's Jacobian on odd-lag perturbations at C: above 1
// the symmetric branch is unstable (section 3.2).
double odd_sector_instability(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude);

// Smallest real part among eigenvalues of the map's Jacobian on even-lag perturbations at C: the
// stiff readout mode (strongly negative at strong signal) that bounds the usable damping.
double even_sector_stiffness(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude);

}  // namespace kernelsweep
