// Branches of the linear theory (docs/theory.md 3.1-3.2): the symmetric branch from the prior
// kernel with adaptive continuation in the signal amplitude; the broken branch as the minimum of
// F(C) next to the symmetric saddle, with two fallbacks (continuation in q by constrained solves;
// finding it at another signal and following it in lam); the Landau curve by constrained solves.
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

}  // namespace

BranchSolution solve_linear_symmetric(const KernelStructure& s, const TheoryOptions& options,
                                      double amplitude) {
  // A bound on the work of one continuation, far above what any signal needs that the stages can
  // follow (T = 2, P = 2: lam = 1e4 is solved in about a second; lam = 1e5 reaches this bound in a
  // few seconds): a stronger signal is refused in one line instead of running into
  // theory.time_limit.
  constexpr int kMaxRefusedStages = 4000;
  // The secant predictor starts after this many stages, so that ordinary signals (a few stages)
  // follow exactly the path they always did: the state search seeded from the symmetric state is
  // sensitive to its last bits (which further states it meets, and in which order).
  constexpr int kPlainStages = 32;
  const EntryList entries = entries_where(s, !s.has_sign_symmetry());
  FixedPointOptions fixed_point;
  fixed_point.max_iterations = options.max_iterations;
  NewtonOptions newton;

  // Adaptive continuation in the signal amplitude from the prior kernel: a stage that breaks down
  // (K^{-1} - C_hat not positive definite) is retried from the last good solution with half the
  // step; successful stages let the step grow.
  // Past kPlainStages stages, each stage starts from the secant predictor through the last two
  // solutions (the prior kernel is the exact solution at amplitude 0) when the equations are
  // defined there: with the previous solution alone as start, the readout tilt (growing as a^2)
  // breaks positive definiteness after steps ~ 1/lam, so strong signals took O(lam) stages (lam =
  // 1e4 ran into theory.time_limit).
  Eigen::MatrixXd C = s.linear_prior_kernel(), C_previous = C;
  double reached = 0.0, reached_previous = 0.0, step = amplitude;
  int iterations = 0, stages = 0, refused = 0;
  bool converged = false;
  std::string failure;
  while (true) {
    check_deadline();
    const double a = std::min(amplitude, reached + step);
    const bool last = a == amplitude;
    fixed_point.tolerance = last ? options.tolerance : 1e-8;
    Eigen::MatrixXd start = C;
    if (reached > reached_previous && stages + refused >= kPlainStages) {
      const Eigen::MatrixXd predicted =
          C + (a - reached) / (reached - reached_previous) * (C - C_previous);
      if (evaluate_linear(s, predicted, a).ok) start = predicted;
    }
    LinearSolveResult r = iterate_fixed_point(s, start, a, entries, fixed_point);
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
      if (++refused > kMaxRefusedStages) {
        failure = "more than " + std::to_string(kMaxRefusedStages) +
                  " stages broke down: the signal is too strong for the continuation";
        break;
      }
      continue;
    }
    ++stages;
    C_previous = C;
    reached_previous = reached;
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
