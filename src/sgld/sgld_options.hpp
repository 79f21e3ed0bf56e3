#pragma once
// Options of the SGLD replicas of a grid point (docs/theory.md section 4), the `sgld` config section.
#include <cstdint>
#include <limits>
#include <string>

namespace kernelsweep {

enum class Precision { float64, float32 };
std::string to_string(Precision precision);

// langevin: the split Ornstein-Uhlenbeck chain of THEORY.md 4 (the Bayesian posterior).
// prior: independent draws of every weight from its prior at every step (no likelihood, no chain),
//        for measuring the convergence of finite-width kernels to the NNGP kernels in N.
enum class SgldSampler { langevin, prior };

// sgld.eta: auto. The step size is then eta = eta_safety / (1 + lambda_max), lambda_max the
// largest curvature (|eigenvalue| of the Hessian of the likelihood term L) measured by power
// iteration at the start and during burn-in (eta is only ever lowered).
inline constexpr double kAutoEta = std::numeric_limits<double>::quiet_NaN();

struct SgldOptions {
  bool enabled = false;
  int replicas = 4;
  long long steps = 20000;
  long long burn_in = 5000;
  int thin = 10;          // measure every thin steps
  double eta = kAutoEta;  // Ornstein-Uhlenbeck step size; NaN = auto (see kAutoEta)
  // eta * (1 + lambda_max) for eta: auto. The drift step is unstable for eta lambda_max > 2 and
  // inflates the variance along the stiffest direction by ~eta lambda_max / 2. Measured
  // lambda_max (full Hessian of L, bench/sgld/curvature_probe.cpp): ~450 at T=4, lambda=1.2
  // (where eta = 0.002, i.e. 0.9, is known to reproduce the theory) and ~4000 in the broken
  // phase at T=8, lambda=2 (so eta = 0.002 is unstable there: the broken state cannot be held).
  double eta_safety = 0.5;
  std::uint64_t seed = 1;
  Precision precision = Precision::float64;
  bool record_trace = false;
  SgldSampler sampler = SgldSampler::langevin;
  // Convergence thresholds that decide done vs not_converged: split-R-hat of |q|, the energy and
  // the sign-aligned kernel entries at most max_rhat (Vehtari et al. 2021 recommend 1.01; 1.05 is
  // the classic bound, chosen for the few replicas a grid point affords); the effective sample
  // size of |q| summed over replicas at least min_ess.
  double max_rhat = 1.05;
  double min_ess = 100.0;
  // Runs every replica also at eta/2 (for 2x the steps and burn-in, the same Langevin time) and
  // requires <|q|> to agree within 3 combined standard errors.
  bool check_step = false;
  int spectrum_k = 8;  // eigenvalues of largest modulus of W (each W^(t)) kept per replica
};

// Replica tasks a point needs: replicas, twice that with check_step (replicas >= options.replicas
// run at eta/2).
int sgld_replica_count(const SgldOptions& options);

}  // namespace kernelsweep
