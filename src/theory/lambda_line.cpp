#include "theory/lambda_line.hpp"

#include "theory/dense_kernels.hpp"

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "model/deadline.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/linear_states.hpp"

namespace kernelsweep {

namespace {

// A point (x, a) of a branch: packed kernel x over all entries, signal amplitude a.
struct BranchPoint {
  Eigen::VectorXd x;
  double a = 0.0;
};

// Follows one branch of R(x, a) = 0 (R = K^{-1} - C_hat - C^{-1}) by pseudo-arclength steps with
// a secant predictor and a chord corrector (the bordered Jacobian is refactored only when the
// iteration stops contracting), and solves at every grid signal the branch passes.
class BranchTracer {
 public:
  using Record = std::function<void(std::size_t grid_index, const Eigen::MatrixXd& C)>;

  BranchTracer(const KernelStructure& s, const std::vector<double>& grid, double tolerance)
      : s_(s),
        grid_(grid),
        tolerance_(tolerance),
        all_(entries_where(s, true)),
        n_(static_cast<int>(all_.size())) {
    spacing_ = grid.size() > 1 ? (grid.back() - grid.front()) / double(grid.size() - 1) : 0.05;
  }

  // From a stationary state at grid point `start`, in the direction of increasing (+1) or
  // decreasing (-1) signal; records every grid crossing (folds included: several per lam).
  void follow(std::size_t start, const Eigen::MatrixXd& C, double direction, const Record& record) {
    BranchPoint z{pack(C, all_), grid_[start]};
    const double q0 = s_.order_parameter(C);
    Eigen::VectorXd tangent = initial_tangent(z);
    if (tangent.size() == 0) return;
    if (tangent(n_) * direction < 0) tangent = -tangent;
    double ds = spacing_ / std::max(std::abs(tangent(n_)), 0.05);
    const double lo = grid_.front() - 1e-12, hi = grid_.back() + 1e-12;
    const int budget = 8 * static_cast<int>(grid_.size()) + 200;
    for (int step = 0; step < budget && ds > 1e-10; ++step) {
      check_deadline();
      BranchPoint next{z.x + ds * tangent.head(n_), z.a + ds * tangent(n_)};
      if (!correct(&next, tangent, tangent.dot(join(next)))) {
        ds *= 0.5;
        continue;
      }
      if (!record_crossings(z, next, record)) {
        ds *= 0.5;
        continue;
      }
      Eigen::VectorXd secant = join(next) - join(z);
      secant /= secant.norm();
      tangent = secant;
      z = next;
      if (z.a < lo || z.a > hi) return;
      // A broken branch that reaches q = 0 has rejoined the symmetric branch (the pitchfork):
      // beyond it lies the W -> -W image, which the mirrors cover.
      if (s_.has_sign_symmetry() && q0 != 0.0 &&
          s_.order_parameter(unpack(z.x, all_, s_.M())) * q0 <= 0.0)
        return;
      const double a_step = std::abs(tangent(n_)) * ds;
      if (last_evaluations_ <= 4) ds *= 1.5;
      if (a_step > 1.5 * spacing_) ds *= 1.5 * spacing_ / a_step;
      ds = std::min(ds, 0.1 * (1.0 + z.x.norm()));
    }
  }

 private:
  Eigen::VectorXd join(const BranchPoint& z) const {
    Eigen::VectorXd out(n_ + 1);
    out << z.x, z.a;
    return out;
  }

  // dR/da: only the readout tilt v E r r^T E^T depends on a, as a^2.
  Eigen::VectorXd residual_signal_derivative(const LinearEvaluation& e, double a) const {
    if (a == 0.0) return Eigen::VectorXd::Zero(n_);
    return pack(-2.0 / a * e.readout.tilt, all_);
  }

  void factor(const BranchPoint& z, const Eigen::VectorXd& border, const LinearEvaluation& e) {
    Eigen::MatrixXd J(n_ + 1, n_ + 1);
    const Eigen::MatrixXd C = unpack(z.x, all_, s_.M());
    J.topLeftCorner(n_, n_) = residual_jacobian(s_, C, e, all_);
    J.col(n_).head(n_) = residual_signal_derivative(e, z.a);
    J.row(n_) = border.transpose();
    lu_.compute(J);
    border_ = border;
    Eigen::VectorXd last = Eigen::VectorXd::Zero(n_ + 1);
    last(n_) = 1.0;
    signal_column_ = lu_.solve(last);
  }

  Eigen::VectorXd initial_tangent(const BranchPoint& z) {
    const LinearEvaluation e = evaluate_linear(s_, unpack(z.x, all_, s_.M()), z.a);
    if (!e.ok) return {};
    Eigen::VectorXd border = Eigen::VectorXd::Zero(n_ + 1);
    border(n_) = 1.0;
    factor(z, border, e);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n_ + 1);
    rhs(n_) = 1.0;
    Eigen::VectorXd t = lu_.solve(rhs);
    if (!t.allFinite()) return {};
    return t / t.norm();
  }

  // Newton-chord on [R(x, a); border . z - target] = 0 from *z.
  bool correct(BranchPoint* z, const Eigen::VectorXd& border, double target) {
    last_evaluations_ = 0;
    bool fresh = false;
    // A stale factorization is fine while the chord contracts; a very different border row
    // (natural step vs arclength step) is not.
    if (border_.size() != border.size() || (border - border_).norm() > 0.5 * border.norm())
      has_lu_ = false;
    double previous = std::numeric_limits<double>::infinity();
    for (int it = 0; it < 40; ++it) {
      const LinearEvaluation e = evaluate_linear(s_, unpack(z->x, all_, s_.M()), z->a);
      ++last_evaluations_;
      if (!e.ok) return false;
      Eigen::VectorXd F(n_ + 1);
      F << pack(e.precision - e.C_inv, all_), border.dot(join(*z)) - target;
      const double norm = F.norm();
      // The arclength points only carry the branch to the grid signals, where the states are solved
      // to the full tolerance from interpolated starts: 1e-9 (or the tolerance if looser) suffices.
      if (e.fixed_point_residual < std::max(tolerance_, kPathTolerance) &&
          std::abs(F(n_)) < 1e-9 * (1.0 + std::abs(target)))
        return true;
      if (!has_lu_ || norm > 0.5 * previous) {
        if (fresh && norm > 0.9 * previous) return false;  // Newton itself does not contract
        factor(*z, border, e);
        has_lu_ = fresh = true;
      } else {
        fresh = false;
      }
      previous = norm;
      const Eigen::VectorXd dz = lu_.solve(-F);
      if (!dz.allFinite()) return false;
      z->x += dz.head(n_);
      z->a += dz(n_);
    }
    return false;
  }

  // Newton-chord on R(x, a) = 0 at fixed a = z->a from *z. It reuses the factorization of the
  // bordered Jacobian B = [J_x, dR/da; border^T] of the arclength steps (refactoring it at z, with
  // the same border, only when the chord stops contracting): with u = B^{-1} (-R, 0) and
  // v = B^{-1} e_a, the step u - (u_a / v_a) v solves J_x dx = -R with da = 0. A natural-parameter
  // border of its own would force a refactorization per grid crossing and another one at the next
  // arclength step.
  bool correct_at_fixed_signal(BranchPoint* z) {
    last_evaluations_ = 0;
    bool fresh = false;
    double previous = std::numeric_limits<double>::infinity();
    for (int it = 0; it < 40; ++it) {
      const LinearEvaluation e = evaluate_linear(s_, unpack(z->x, all_, s_.M()), z->a);
      ++last_evaluations_;
      if (!e.ok) return false;
      Eigen::VectorXd F = Eigen::VectorXd::Zero(n_ + 1);
      F.head(n_) = pack(e.precision - e.C_inv, all_);
      if (e.fixed_point_residual < tolerance_) return true;
      const double norm = F.norm();
      if (!has_lu_ || norm > 0.5 * previous) {
        if (fresh && norm > 0.9 * previous) return false;  // Newton itself does not contract
        factor(*z, border_.size() == n_ + 1 ? border_ : Eigen::VectorXd::Unit(n_ + 1, n_), e);
        has_lu_ = fresh = true;
      } else {
        fresh = false;
      }
      previous = norm;
      const Eigen::VectorXd u = lu_.solve(-F);
      const double v_a = signal_column_(n_);
      if (!u.allFinite() || !(std::abs(v_a) > 0.0)) return false;
      z->x += u.head(n_) - (u(n_) / v_a) * signal_column_.head(n_);
    }
    return false;
  }

  // Solves at every grid signal strictly past a.a up to b.a (interpolated start, a fixed); false
  // if one of them fails or lands far from the interpolation (a jump to another branch).
  bool record_crossings(const BranchPoint& a, const BranchPoint& b, const Record& record) {
    const double lo = std::min(a.a, b.a), hi = std::max(a.a, b.a);
    std::vector<std::pair<std::size_t, Eigen::MatrixXd>> found;
    for (std::size_t i = 0; i < grid_.size(); ++i) {
      const double g = grid_[i];
      const bool inside = b.a > a.a ? (g > lo && g <= hi) : (g >= lo && g < hi);
      if (!inside || g == a.a) continue;
      const double t = (g - a.a) / (b.a - a.a);
      BranchPoint z{a.x + t * (b.x - a.x), g};
      const Eigen::VectorXd guess = z.x;
      if (!correct_at_fixed_signal(&z)) return false;
      if ((z.x - guess).norm() > 0.1 * (b.x - a.x).norm() + 1e-8 * z.x.norm()) return false;
      found.emplace_back(i, unpack(z.x, all_, s_.M()));
    }
    for (const auto& [i, C] : found) record(i, C);
    return true;
  }

  const KernelStructure& s_;
  const std::vector<double>& grid_;
  static constexpr double kPathTolerance = 1e-9;
  double tolerance_;
  EntryList all_;
  int n_;
  double spacing_ = 0.05;
  DenseLu lu_;
  Eigen::VectorXd border_, signal_column_;  // signal_column_ = B^{-1} e_a
  bool has_lu_ = false;
  int last_evaluations_ = 0;
};

// The symmetric branch at every grid signal: Newton from the neighbour, continuation from the
// prior kernel where that fails.
std::vector<BranchSolution> symmetric_line(const KernelStructure& s, const TheoryOptions& options,
                                           const std::vector<double>& lams) {
  const EntryList entries = entries_where(s, !s.has_sign_symmetry());
  std::vector<BranchSolution> out;
  NewtonOptions newton;
  newton.tolerance = options.tolerance;
  for (std::size_t i = 0; i < lams.size(); ++i) {
    check_deadline();
    if (i > 0 && out.back().status != Status::failed) {
      // From the secant through the two previous solutions (the error of the neighbour alone is
      // first order in the spacing: one Newton step more per signal).
      Eigen::MatrixXd start = out.back().C;
      if (i > 1 && out[i - 2].status != Status::failed) {
        const Eigen::MatrixXd predicted =
            start + (lams[i] - lams[i - 1]) / (lams[i - 1] - lams[i - 2]) * (start - out[i - 2].C);
        if (evaluate_linear(s, predicted, lams[i]).ok) start = predicted;
      }
      const LinearSolveResult r = newton_solve(s, start, lams[i], entries, newton);
      if (r.converged) {
        BranchSolution b;
        b.name = "symmetric";
        b.status = Status::done;
        b.C = r.C;
        b.iterations = r.iterations;
        out.push_back(std::move(b));
        continue;
      }
    }
    out.push_back(solve_linear_symmetric(s, options, lams[i]));
  }
  return out;
}

void fill_summary(const Dataset& data, double lam, const BranchSolution& symmetric,
                  std::vector<StationaryState> states, TheorySummary* summary) {
  *summary = TheorySummary{};
  if (symmetric.status == Status::failed && states.empty()) {
    summary->status = Status::failed;
    summary->message = "symmetric branch: " + symmetric.message;
    return;
  }
  summary->states = std::move(states);
  int selected = lowest_stable_state(summary->states);
  std::ostringstream msg;
  if (selected < 0) {
    for (int i = 0; i < static_cast<int>(summary->states.size()); ++i)
      if (summary->states[i].status != Status::failed &&
          (selected < 0 || summary->states[i].free_energy <
                               summary->states[static_cast<std::size_t>(selected)].free_energy))
        selected = i;
    msg << "no stable state: the lowest-F stationary state found is not a verified local minimum; ";
  }
  if (selected < 0) {
    summary->status = Status::failed;
    summary->message = "no stationary state at lam = " + std::to_string(lam);
    return;
  }
  summary->selected = selected;
  const StationaryState& chosen = summary->solution();
  summary->status = chosen.status;
  msg << chosen.name << " state (lowest F of " << summary->stable_count() << " stable among "
      << summary->states.size() << " stationary states on the traced lam line): " << chosen.message;
  summary->message = msg.str();
  summary->generalization_error = generalization_error(data, chosen.f);
}

}  // namespace

void trace_lambda_line(const TheoryOptions& options, const NetworkSpec& network,
                       const TaskSpec& task, const std::vector<double>& lams,
                       std::vector<TheorySummary>* out) {
  if (network.activation != Activation::linear)
    throw std::invalid_argument("trace_lambda_line: linear activation only");
  if (lams.empty()) throw std::invalid_argument("trace_lambda_line: no signals");
  for (std::size_t i = 0; i < lams.size(); ++i)
    if (!(lams[i] >= 0.0) || (i > 0 && !(lams[i] > lams[i - 1])))
      throw std::invalid_argument("trace_lambda_line: lams must be >= 0 and strictly increasing");
  TaskSpec unit = task;
  unit.lam = 1.0;  // the targets are linear in lam: the signal is the continuation amplitude
  const KernelStructure s(network, make_dataset(unit, network.T));
  check_well_posed(TheoryProblem{network, s.data()});
  out->assign(lams.size(), TheorySummary{});
  std::vector<BranchSolution> symmetric;
  std::vector<std::vector<Eigen::MatrixXd>> found(lams.size());
  try {
    ScopedDeadline deadline(options.time_limit, "theory.time_limit");
    symmetric = symmetric_line(s, options, lams);
    // Seeds: the strongest signal, the first signal where the symmetric state is unstable (the
    // bifurcation direction near lambda_c) and the middle of the line.
    std::vector<std::size_t> seeds{lams.size() - 1};
    for (std::size_t i = 0; i < lams.size(); ++i)
      if (symmetric[i].status != Status::failed &&
          !free_energy_hessian(s, symmetric[i].C, lams[i], false).stable) {
        seeds.push_back(i);
        break;
      }
    seeds.push_back(lams.size() / 2);
    BranchTracer tracer(s, lams, options.tolerance);
    const auto record = [&](std::size_t i, const Eigen::MatrixXd& C) { found[i].push_back(C); };
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const std::size_t i = seeds[k];
      if (symmetric[i].status == Status::failed) continue;
      StateSearchOptions search;
      search.tolerance = options.tolerance;
      search.random_seeds = options.random_seeds;
      search.seed = options.seed;
      search.point_index = options.point_index * 1000003 + i;
      for (const StationaryState& st : search_linear_states(s, lams[i], symmetric[i].C, search)) {
        if (st.kind == StateKind::symmetric) continue;
        // Images need no branch of their own: the W -> -W image of every traced state, and the
        // lag-2 twin of every one without odd-lag entries, are added at each signal below.
        const bool known =
            std::any_of(found[i].begin(), found[i].end(), [&](const Eigen::MatrixXd& C) {
              if (same_state(C, st.C)) return true;
              if (!s.has_sign_symmetry()) return false;
              const Eigen::MatrixXd mirror = mirror_state(s, C);
              const bool odd_free = (mirror - C).norm() < 2e-9 * C.norm();  // as add_lag2_twins
              return same_state(mirror, st.C) || (odd_free && same_state(lag2_twin(s, C), st.C));
            });
        if (known) continue;
        found[i].push_back(st.C);
        tracer.follow(i, st.C, +1.0, record);
        tracer.follow(i, st.C, -1.0, record);
      }
    }
  } catch (const TimeLimitExceeded& e) {
    for (auto& summary : *out) {
      summary.status = Status::failed;
      summary.message = e.what();
    }
    return;
  }
  for (std::size_t i = 0; i < lams.size(); ++i) {
    std::vector<StationaryState> states;
    const Eigen::MatrixXd& C_sym = symmetric[i].C;
    if (symmetric[i].status != Status::failed)
      add_distinct(&states,
                   make_state(s, C_sym, lams[i], C_sym, options.tolerance, "symmetric branch"));
    // A branch traced from several seeds is recorded several times: each state's Hessian is
    // checked once, and a mirror image takes the stability of its original (make_mirror_state).
    for (const Eigen::MatrixXd& C : found[i]) {
      const bool known = contains_state(states, C);
      const bool mirror_known = s.has_sign_symmetry() && contains_state(states, mirror_state(s, C));
      if (known && (mirror_known || !s.has_sign_symmetry())) continue;
      const StationaryState traced =
          make_state(s, C, lams[i], C_sym, options.tolerance, "traced branch");
      if (!known) add_distinct(&states, traced);
      if (s.has_sign_symmetry() && !mirror_known)
        add_distinct(&states, make_mirror_state(s, traced, lams[i], C_sym, options.tolerance,
                                                "W -> -W image of a traced branch"));
    }
    add_lag2_twins(s, lams[i], C_sym, options.tolerance, &states);
    TaskSpec at = task;
    at.lam = lams[i];
    fill_summary(make_dataset(at, network.T), lams[i], symmetric[i], std::move(states), &(*out)[i]);
  }
}

}  // namespace kernelsweep
