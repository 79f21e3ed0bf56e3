// Branches of the linear theory (THEORY.md 3.1-3.2): the symmetric branch from the prior kernel
// with adaptive continuation in the signal amplitude; the broken branch as the minimum of F(C) next
// to the symmetric saddle, with two fallbacks (continuation in q by constrained solves; finding it
// at another signal and following it in lam); the Landau curve by constrained solves.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "model/deadline.hpp"
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
    b.status = Status::failed;
    b.message = e.failure;
    return b;
  }
  b.status = Status::done;  // provisional: the caller judges the residual
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

// From a symmetric solution, continue in q with the field eps as Lagrange multiplier (constrained
// solves). Above lambda_c, eps(q) = F'(q)/P starts with the sign opposite to q and returns to 0
// exactly at the broken branch; bracket that zero, refine it by secant steps, finish with Newton.
std::optional<LinearSolveResult> broken_by_q_continuation(const KernelStructure& s,
                                                          const TheoryOptions& options,
                                                          const Eigen::MatrixXd& C_symmetric,
                                                          double amplitude) {
  const EntryList all = entries_where(s, true);
  const double scale = order_parameter_scale(s, C_symmetric);
  NewtonOptions constrained;
  constrained.tolerance = std::max(options.tolerance, 1e-11);
  Eigen::MatrixXd C = C_symmetric, C_prev = C_symmetric;
  double q = 0.0, q_prev = 0.0, field = 0.0, field_prev = 0.0, dq = 0.02 * scale;
  int steps = 0;
  bool bracketed = false;
  constrained.max_iterations = 15;
  // A step collapsing below 1e-4 of the scale means the constrained path folds (several unstable
  // odd modes): give up here and let the caller approach from another signal.
  while (steps < 400 && dq > 1e-4 * scale && q < 50.0 * scale) {
    constrained.field = field;
    constrained.constrained_q = q + dq;
    const LinearSolveResult r = newton_solve(s, C, amplitude, all, constrained);
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
    dq *= 1.5;
  }
  if (bracketed) {
    // Secant refinement of eps(q) = 0 inside [q_prev, q].
    double qa = q_prev, fa = field_prev, qb = q, fb = field;
    Eigen::MatrixXd Cb = C;
    for (int k = 0; k < 60 && std::abs(fb) > 1e-14 * (1.0 + std::abs(fa)); ++k) {
      const double qc = fb != fa ? qb - fb * (qb - qa) / (fb - fa) : 0.5 * (qa + qb);
      constrained.field = fb;
      constrained.constrained_q = qc;
      const LinearSolveResult r = newton_solve(s, Cb, amplitude, all, constrained);
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
    LinearSolveResult r = newton_solve(s, Cb, amplitude, all, plain);
    r.iterations += steps;
    if (r.converged && std::abs(s.order_parameter(r.C)) > 1e-8 * scale) return r;
  }
  return std::nullopt;
}

}  // namespace

BranchSolution solve_linear_symmetric(const KernelStructure& s, const TheoryOptions& options,
                                      double amplitude) {
  const EntryList entries = entries_where(s, !s.has_sign_symmetry());
  FixedPointOptions fixed_point;
  fixed_point.max_iterations = options.max_iterations;
  NewtonOptions newton;

  // Adaptive continuation in the signal amplitude from the prior kernel: a stage that breaks down
  // (K^{-1} - C_hat not positive definite) is retried from the last good solution with half the
  // step; successful stages let the step grow.
  Eigen::MatrixXd C = s.linear_prior_kernel();
  double reached = 0.0, step = amplitude;
  int iterations = 0, stages = 0;
  bool converged = false;
  std::string failure;
  while (true) {
    check_deadline();
    const double a = std::min(amplitude, reached + step);
    const bool last = a == amplitude;
    fixed_point.tolerance = last ? options.tolerance : 1e-8;
    LinearSolveResult r = iterate_fixed_point(s, C, a, entries, fixed_point);
    iterations += r.iterations;
    if (!r.breakdown && !r.converged) {
      newton.tolerance = fixed_point.tolerance;
      LinearSolveResult polished = newton_solve(s, r.C, a, entries, newton);
      iterations += polished.iterations;
      if (!polished.breakdown && polished.residual <= r.residual) r = polished;
    }
    const bool usable = !r.breakdown && (last || r.residual < 1e-6);
    if (!usable) {
      failure = r.message;
      step *= 0.5;
      if (step < 1e-7 * amplitude) break;
      continue;
    }
    ++stages;
    C = r.C;
    reached = a;
    if (last) {
      converged = r.residual < options.tolerance;
      BranchSolution b = make_linear_solution(s, C, amplitude, "symmetric");
      b.iterations = iterations;
      if (b.status == Status::failed) return b;
      b.status = converged ? Status::done : Status::not_converged;
      std::ostringstream msg;
      if (stages > 1) msg << "continuation in signal amplitude with " << stages << " stages";
      if (!converged)
        msg << (stages > 1 ? "; " : "") << "residual " << b.residual << " above tolerance "
            << options.tolerance;
      b.message = msg.str();
      return b;
    }
    step *= 1.5;
  }
  BranchSolution b;
  b.name = "symmetric";
  b.status = Status::failed;
  std::ostringstream msg;
  msg << "solver breakdown: continuation in the signal amplitude stalled at " << reached / amplitude
      << " of the target (" << failure << ")";
  b.message = msg.str();
  return b;
}

std::optional<BranchSolution> solve_linear_broken(const KernelStructure& s,
                                                  const TheoryOptions& options,
                                                  const BranchSolution& symmetric,
                                                  std::string* reason, bool* symmetric_unstable) {
  *symmetric_unstable = false;
  if (s.network().architecture == Architecture::dnn) {
    *reason = "the DNN has no temporal coherence (q = 0 identically)";
    return std::nullopt;
  }
  if (!s.has_sign_symmetry()) {
    *reason = "the task has no W -> -W symmetry (inputs after t=0 or supervision of both parities)";
    return std::nullopt;
  }
  if (symmetric.status == Status::failed) {
    *reason = "the symmetric branch failed";
    return std::nullopt;
  }
  const double curvature = odd_sector_hessian_minimum(s, symmetric.C, 1.0);
  *symmetric_unstable = curvature < 0.0;
  if (!(curvature < 0.0)) {
    std::ostringstream msg;
    msg << "the symmetric branch is stable (smallest odd-sector Hessian eigenvalue of F "
        << curvature << " >= 0): lam is below lambda_c";
    *reason = msg.str();
    return std::nullopt;
  }
  auto finish = [&](const LinearSolveResult& r, int extra_iterations, const std::string& how) {
    BranchSolution b = make_linear_solution(s, r.C, 1.0, "broken");
    b.iterations = r.iterations + extra_iterations;
    if (b.status != Status::failed)
      b.status = b.residual < options.tolerance ? Status::done : Status::not_converged;
    b.message = how;
    return b;
  };

  // The broken branch is the minimum of F(C) next to the symmetric saddle: perturb along the
  // nearest-neighbour time blocks and descend (F is a barrier on positive-definite C).
  std::string other_minimum;
  {
    const int T = s.T(), P = s.P();
    const EntryList all = entries_where(s, true);
    const double scale = order_parameter_scale(s, symmetric.C);
    for (double delta = 0.05; delta > 1e-4; delta *= 0.1) {
      Eigen::MatrixXd C0 = symmetric.C;
      for (int t = 0; t + 1 < T; ++t) {
        const Eigen::MatrixXd block = 0.5 * delta *
                                      (symmetric.C.block(t * P, t * P, P, P) +
                                       symmetric.C.block((t + 1) * P, (t + 1) * P, P, P));
        C0.block(t * P, (t + 1) * P, P, P) += block;
        C0.block((t + 1) * P, t * P, P, P) += block.transpose();
      }
      MinimizeOptions minimize;
      minimize.tolerance = options.tolerance;
      const LinearSolveResult r = minimize_free_energy(s, C0, 1.0, all, minimize);
      if (r.breakdown) continue;
      if (r.converged && std::abs(s.order_parameter(r.C)) > 1e-8 * scale)
        return finish(r, 0, "minimum of F(C) next to the symmetric saddle");
      if (r.converged) {
        // A minimum with q = 0 (e.g. at T = 8 a period-4 state: odd lags 0, alternating even lags)
        // is not the broken branch of THEORY.md 3.2, but it says the symmetric branch is no answer.
        const LinearEvaluation e = evaluate_linear(s, r.C, 1.0);
        const int P = s.P();
        std::ostringstream msg;
        msg << "; descent from it found a q = 0 state with F = " << linear_free_energy(r.C, e)
            << " (symmetric branch: " << symmetric.free_energy << ")";
        if (T >= 3) {
          double lag2 = 0.0;
          for (int p = 0; p < P; ++p) lag2 += r.C((T - 1) * P + p, (T - 3) * P + p) / P;
          msg << ", lag-2 correlation " << lag2;
        }
        other_minimum = msg.str();
      }
      break;
    }
  }

  if (auto r = broken_by_q_continuation(s, options, symmetric.C, 1.0))
    return finish(*r, 0, "continuation in q from the symmetric branch");

  // At strong signal the symmetric branch sits close to the positive-definiteness boundary, and
  // with several unstable odd modes the constrained path can fold: find the broken branch at
  // another signal (a fraction or a multiple of lam) and follow it to lam with Newton.
  const EntryList all = entries_where(s, true);
  NewtonOptions newton;
  newton.tolerance = options.tolerance;
  newton.max_iterations = 15;
  const double scale = order_parameter_scale(s, symmetric.C);
  for (double start : {0.5, 2.0, 0.25, 4.0}) {
    const BranchSolution other = solve_linear_symmetric(s, options, start);
    if (other.status == Status::failed) continue;
    if (!(odd_sector_hessian_minimum(s, other.C, start) < 0.0)) continue;  // below lambda_c there
    auto found = broken_by_q_continuation(s, options, other.C, start);
    if (!found) continue;
    Eigen::MatrixXd C = found->C;
    double amplitude = start, step = 0.25 * std::abs(1.0 - start);
    const double direction = start < 1.0 ? 1.0 : -1.0;
    int steps = 0;
    while (amplitude != 1.0 && step > 1e-9 && steps < 400) {
      const double next =
          direction > 0 ? std::min(1.0, amplitude + step) : std::max(1.0, amplitude - step);
      const LinearSolveResult r = newton_solve(s, C, next, all, newton);
      ++steps;
      if (r.converged && std::abs(s.order_parameter(r.C)) > 1e-8 * scale) {
        C = r.C;
        amplitude = next;
        step *= 1.5;
      } else {
        step *= 0.5;
      }
    }
    if (amplitude == 1.0) {
      newton.max_iterations = 30;
      LinearSolveResult r = newton_solve(s, C, 1.0, all, newton);
      std::ostringstream how;
      how << "found at " << start << " x lam and followed to lam in the signal (" << steps
          << " steps)";
      return finish(r, steps, how.str());
    }
  }
  *reason = "the symmetric branch is unstable but no broken branch was found" + other_minimum;
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
      // Legendre transform of F_eps: F(q) = F_eps + eps P q (the field is eps sum_p h^{T-1}
      // h^{T-2}).
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
