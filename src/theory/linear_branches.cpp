// Branches of the linear theory (THEORY.md 3.1-3.2): symmetric branch from the prior kernel with
// continuation in the signal amplitude; broken branch by seeding an odd-lag perturbation and, if that
// falls back, by following it down from a larger signal; the Landau curve by constrained solves.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "theory/branch_solvers.hpp"
#include "theory/linear_saddle_point.hpp"

namespace kernelsweep {

namespace {

BranchSolution make_linear_solution(const KernelStructure& s, const Eigen::MatrixXd& C,
                                    double amplitude, const std::string& name) {
  BranchSolution b;
  b.name = name;
  const LinearEvaluation e = evaluate_linear(s, C, amplitude);
  b.C = C;
  b.H = C;
  b.q = s.order_parameter(C);
  b.q_stderr = 0.0;
  if (!e.ok) {
    b.status = SolveStatus::failed;
    b.message = e.failure;
    return b;
  }
  b.status = SolveStatus::converged;  // provisional: the caller judges the residual
  b.f = s.predictions(C, e.readout);
  b.free_energy = linear_free_energy(C, e);
  b.residual = e.fixed_point_residual;
  return b;
}

// Mean over patterns of sqrt(C^{T-1,T-1} C^{T-2,T-2}): the natural scale of q.
double order_parameter_scale(const KernelStructure& s, const Eigen::MatrixXd& C) {
  const int T = s.T(), P = s.P();
  if (T < 2) return 0.0;
  double scale = 0.0;
  for (int p = 0; p < P; ++p)
    scale += std::sqrt(C((T - 1) * P + p, (T - 1) * P + p) * C((T - 2) * P + p, (T - 2) * P + p));
  return scale / P;
}

struct BranchAttempt {
  bool found = false;
  LinearSolveResult result;
};

// From a symmetric solution, perturb the nearest-neighbour time blocks and iterate: above lambda_c
// the odd mode grows until it saturates on the broken branch; Newton finishes.
BranchAttempt seeded_broken_search(const KernelStructure& s, const TheoryOptions& options,
                                   const Eigen::MatrixXd& C_symmetric, double amplitude) {
  const int T = s.T(), P = s.P();
  const EntryList all = entries_where(s, true);
  const double scale = order_parameter_scale(s, C_symmetric);
  BranchAttempt attempt;
  for (double delta = 0.05; delta > 1e-3; delta *= 0.5) {
    Eigen::MatrixXd C0 = C_symmetric;
    for (int t = 0; t + 1 < T; ++t) {
      const Eigen::MatrixXd block = 0.5 * delta *
                                    (C_symmetric.block(t * P, t * P, P, P) +
                                     C_symmetric.block((t + 1) * P, (t + 1) * P, P, P));
      C0.block(t * P, (t + 1) * P, P, P) += block;
      C0.block((t + 1) * P, t * P, P, P) += block.transpose();
    }
    FixedPointOptions plain;
    plain.tolerance = 1e-9;
    plain.max_iterations = options.max_iterations;
    plain.mixing = 0.5;
    plain.anderson_memory = 0;  // Anderson would happily converge back onto the unstable point
    const LinearSolveResult drift = iterate_fixed_point(s, C0, amplitude, all, plain);
    if (drift.breakdown) continue;
    NewtonOptions newton;
    newton.tolerance = options.tolerance;
    attempt.result = newton_solve(s, drift.C, amplitude, all, newton);
    attempt.found = attempt.result.converged &&
                    std::abs(s.order_parameter(attempt.result.C)) > 1e-8 * scale;
    return attempt;
  }
  return attempt;
}

}  // namespace

BranchSolution solve_linear_symmetric(const KernelStructure& s, const TheoryOptions& options,
                                      double amplitude) {
  const EntryList entries = entries_where(s, !s.has_sign_symmetry());
  const Eigen::MatrixXd prior = s.linear_prior_kernel();
  FixedPointOptions fixed_point;
  fixed_point.max_iterations = options.max_iterations;
  NewtonOptions newton;
  newton.tolerance = options.tolerance;

  std::string failure;
  for (int stages = 1; stages <= 64; stages *= 2) {
    Eigen::MatrixXd C = prior;
    bool broke_down = false;
    bool converged = true;
    int iterations = 0;
    for (int k = 1; k <= stages && !broke_down; ++k) {
      const double a = amplitude * k / stages;
      const bool last = k == stages;
      fixed_point.tolerance = last ? options.tolerance : 1e-8;
      LinearSolveResult r = iterate_fixed_point(s, C, a, entries, fixed_point);
      iterations += r.iterations;
      if (!r.breakdown && !r.converged) {
        newton.tolerance = fixed_point.tolerance;
        LinearSolveResult polished = newton_solve(s, r.C, a, entries, newton);
        iterations += polished.iterations;
        if (!polished.breakdown && polished.residual <= r.residual) r = polished;
      }
      if (r.breakdown) {
        broke_down = true;
        failure = r.message;
        break;
      }
      C = r.C;
      if (last) converged = r.residual < options.tolerance;
      if (!last && r.residual > 1e-6) {
        broke_down = true;
        failure = r.message;
      }
    }
    if (broke_down) continue;
    BranchSolution b = make_linear_solution(s, C, amplitude, "symmetric");
    b.iterations = iterations;
    if (b.status == SolveStatus::failed) return b;
    b.status = converged ? SolveStatus::converged : SolveStatus::not_converged;
    std::ostringstream msg;
    if (stages > 1) msg << "continuation in signal amplitude with " << stages << " stages";
    if (!converged)
      msg << (stages > 1 ? "; " : "") << "residual " << b.residual << " above tolerance " << options.tolerance;
    b.message = msg.str();
    return b;
  }
  BranchSolution b;
  b.name = "symmetric";
  b.status = SolveStatus::failed;
  b.message = "solver breakdown even with 64 continuation stages: " + failure;
  return b;
}

std::optional<BranchSolution> solve_linear_broken(const KernelStructure& s,
                                                  const TheoryOptions& options,
                                                  const BranchSolution& symmetric,
                                                  std::string* reason) {
  if (s.network().architecture == Architecture::dnn) {
    *reason = "the DNN has no temporal coherence (q = 0 identically)";
    return std::nullopt;
  }
  if (!s.has_sign_symmetry()) {
    *reason = "the task has no W -> -W symmetry (inputs after t=0 or supervision of both parities)";
    return std::nullopt;
  }
  if (symmetric.status == SolveStatus::failed) {
    *reason = "the symmetric branch failed";
    return std::nullopt;
  }
  const double instability = odd_sector_instability(s, symmetric.C, 1.0);
  if (!(instability > 1.0)) {
    std::ostringstream msg;
    msg << "the symmetric branch is stable (largest odd-sector Jacobian eigenvalue " << instability
        << " <= 1): lam is below lambda_c";
    *reason = msg.str();
    return std::nullopt;
  }
  auto finish = [&](const LinearSolveResult& r, int extra_iterations, const std::string& how) {
    BranchSolution b = make_linear_solution(s, r.C, 1.0, "broken");
    b.iterations = r.iterations + extra_iterations;
    if (b.status != SolveStatus::failed)
      b.status = b.residual < options.tolerance ? SolveStatus::converged : SolveStatus::not_converged;
    b.message = how;
    return b;
  };

  BranchAttempt direct = seeded_broken_search(s, options, symmetric.C, 1.0);
  if (direct.found) return finish(direct.result, 0, "seeded from the symmetric branch");

  // Where the seeded iteration leaves the positive-definite region or falls back: continue in q
  // from the symmetric point with the field eps as Lagrange multiplier (constrained solves). Above
  // lambda_c, eps(q) = F'(q)/P starts with the sign opposite to q and returns to 0 exactly at the
  // broken branch; bracket that zero, refine it by secant steps, and finish with plain Newton.
  const EntryList all = entries_where(s, true);
  const double scale = order_parameter_scale(s, symmetric.C);
  NewtonOptions constrained;
  constrained.tolerance = std::max(options.tolerance, 1e-11);
  Eigen::MatrixXd C = symmetric.C, C_prev = symmetric.C;
  double q = 0.0, q_prev = 0.0, field = 0.0, field_prev = 0.0, dq = 0.02 * scale;
  int steps = 0;
  bool bracketed = false;
  while (steps < 400 && dq > 1e-9 * scale && q < 50.0 * scale) {
    constrained.field = field;
    constrained.constrained_q = q + dq;
    const LinearSolveResult r = newton_solve(s, C, 1.0, all, constrained);
    ++steps;
    if (!r.converged) {
      dq *= 0.5;
      continue;
    }
    if (q == 0.0 && r.field >= 0.0) {
      // The symmetric branch is unstable, so eps < 0 for small q > 0: the step overshot q_broken.
      dq *= 0.25;
      continue;
    }
    C_prev = C;
    q_prev = q;
    field_prev = field;
    C = r.C;
    q += dq;
    field = r.field;
    if (field_prev < 0.0 && field >= 0.0) {
      bracketed = true;
      break;
    }
    if (r.iterations <= 4) dq *= 1.5;
  }
  if (bracketed) {
    // Secant refinement of eps(q) = 0 inside [q_prev, q].
    double qa = q_prev, fa = field_prev, qb = q, fb = field;
    Eigen::MatrixXd Cb = C;
    for (int k = 0; k < 60 && std::abs(fb) > 1e-14 * (1.0 + std::abs(fa)); ++k) {
      const double qc = fb != fa ? qb - fb * (qb - qa) / (fb - fa) : 0.5 * (qa + qb);
      constrained.field = fb;
      constrained.constrained_q = qc;
      const LinearSolveResult r = newton_solve(s, Cb, 1.0, all, constrained);
      ++steps;
      if (!r.converged) break;
      qa = qb;
      fa = fb;
      qb = qc;
      fb = r.field;
      Cb = r.C;
    }
    NewtonOptions plain;
    plain.tolerance = options.tolerance;
    const LinearSolveResult r = newton_solve(s, Cb, 1.0, all, plain);
    if (r.converged && std::abs(s.order_parameter(r.C)) > 1e-8 * scale)
      return finish(r, steps, "continuation in q from the symmetric branch");
  }
  *reason = "the symmetric branch is unstable but no broken branch was found";
  return std::nullopt;
}

LandauCurve linear_landau_curve(const KernelStructure& s, const TheoryOptions& options,
                                const BranchSolution& symmetric, const BranchSolution* broken) {
  LandauCurve curve;
  const double scale = order_parameter_scale(s, symmetric.C);
  double q_max = 0.3 * scale;
  if (broken) q_max = std::max(q_max, 1.5 * std::abs(broken->q));
  q_max = std::min(q_max, 0.9 * scale);
  const int per_side = 20;
  const int P = s.P();
  const EntryList all = entries_where(s, true);
  NewtonOptions newton;
  newton.tolerance = std::max(options.tolerance, 1e-11);

  std::vector<std::pair<double, double>> points{{0.0, symmetric.free_energy}};
  for (int side : {+1, -1}) {
    Eigen::MatrixXd C = symmetric.C;
    double field = 0.0;
    for (int k = 1; k <= per_side; ++k) {
      const double q_target = side * q_max * k / per_side;
      newton.field = field;
      newton.constrained_q = q_target;
      const LinearSolveResult r = newton_solve(s, C, 1.0, all, newton);
      if (!r.converged) {
        std::ostringstream msg;
        msg << "constrained solve failed at q = " << q_target << " (" << r.message << ")";
        curve.message = msg.str();
        break;
      }
      C = r.C;
      field = r.field;
      const LinearEvaluation e = evaluate_linear(s, C, 1.0, field);
      // Legendre transform of F_eps: F(q) = F_eps + eps P q (the field is eps sum_p h^{T-1} h^{T-2}).
      points.emplace_back(q_target, linear_free_energy(C, e) + field * P * q_target);
    }
  }
  std::sort(points.begin(), points.end());
  for (const auto& [q, F] : points) {
    curve.q.push_back(q);
    curve.F.push_back(F);
  }
  return curve;
}

}  // namespace kernelsweep
