#include "theory/linear_states.hpp"

#include "theory/dense_kernels.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "model/deadline.hpp"
#include "random/philox_stream.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/parity_blocks.hpp"

namespace kernelsweep {

std::string to_string(StateKind kind) {
  switch (kind) {
    case StateKind::symmetric:
      return "symmetric";
    case StateKind::broken:
      return "broken";
    case StateKind::other:
      return "other";
  }
  return "unknown";
}

namespace {

double odd_lag_norm(const KernelStructure& s, const Eigen::MatrixXd& C);

// Whether H + kStabilityTolerance * scale * I has a Cholesky factor (scale: max |H_kk| over all
// entries).
bool shifted_cholesky_succeeds(const Eigen::MatrixXd& hessian, double scale) {
  if (hessian.rows() == 0) return true;
  return DenseCholesky().compute_shifted(hessian, kStabilityTolerance * scale);
}

// A unit eigenvector of the symmetric H (lower triangle given) for its lowest eigenvalue lambda:
// inverse iteration on H - (lambda - delta) I, delta far above lambda's rounding and far below any
// gap, from a fixed start; the sign makes the largest component positive. A sixth of the work of
// the full eigendecomposition (n = 528: ~30 ms against ~210 ms); in a cluster of eigenvalues within
// delta it returns a vector of the cluster. Falls back to the full decomposition if the Rayleigh
// quotient does not confirm lambda.
Eigen::VectorXd lowest_eigenvector(const Eigen::MatrixXd& lower, double lambda, double scale) {
  const Eigen::Index n = lower.rows();
  Eigen::MatrixXd H = lower;
  H.triangularView<Eigen::StrictlyUpper>() = H.transpose();
  const double delta = 1e-10 * std::max(scale, std::abs(lambda));
  Eigen::MatrixXd shifted = H;
  shifted.diagonal().array() -= lambda - delta;
  DenseLu lu;
  lu.compute(shifted);
  Eigen::VectorXd v(n);
  for (Eigen::Index k = 0; k < n; ++k) v(k) = std::cos(1.0 + 0.7 * double(k));
  for (int iteration = 0; iteration < 3; ++iteration) {
    v = lu.solve(v);
    if (!v.allFinite() || !(v.norm() > 0.0)) break;
    v /= v.norm();
  }
  const bool confirmed = v.allFinite() && std::abs(v.dot(H * v) - lambda) <= 1e-8 * scale;
  if (!confirmed) v = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(lower).eigenvectors().col(0);
  Eigen::Index largest = 0;
  v.cwiseAbs().maxCoeff(&largest);
  return v(largest) < 0.0 ? Eigen::VectorXd(-v) : v;
}

}  // namespace

HessianCheck free_energy_hessian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                 double amplitude, bool want_direction) {
  HessianCheck check;
  check.minimum = std::numeric_limits<double>::quiet_NaN();
  // A W -> -W invariant C (no odd-lag part) is a fixed point of the mirror, so the Hessian commutes
  // with Pi (the mirror's sign on each entry): it is block diagonal in the even- and odd-lag
  // entries, and positive definite iff both blocks are (two Choleskys of half the size, a quarter
  // of the work; tests/theory/linear_speed_test.cpp compares with the full matrix). There the
  // equations and each sector's Jacobian are evaluated on the time-parity blocks
  // (parity_blocks.hpp).
  const bool invariant = s.has_sign_symmetry() && !want_direction && odd_lag_norm(s, C) == 0.0;
  const ParityBlocks blocks(s);
  const LinearEvaluation e = invariant ? evaluate_linear_invariant(s, blocks, C, amplitude)
                                       : evaluate_linear(s, C, amplitude);
  if (!e.defined || !e.readout.ok) return check;
  check.defined = true;
  if (invariant) {
    Eigen::MatrixXd h_even = packed_hessian_lower(s, C, e, sector_entries(s, false));
    Eigen::MatrixXd h_odd = packed_hessian_lower(s, C, e, sector_entries(s, true));
    double scale = h_even.size() > 0 ? h_even.diagonal().cwiseAbs().maxCoeff() : 0.0;
    if (h_odd.size() > 0) scale = std::max(scale, h_odd.diagonal().cwiseAbs().maxCoeff());
    // shifted_cholesky_succeeds, in place (the sector Hessians are not needed afterwards).
    const auto shifted_cholesky_in_place = [&](Eigen::MatrixXd* h) {
      if (h->rows() == 0) return true;
      h->diagonal().array() += kStabilityTolerance * scale;
      return cholesky_in_place(h);
    };
    check.stable = shifted_cholesky_in_place(&h_even) && shifted_cholesky_in_place(&h_odd);
    return check;
  }
  const EntryList all = entries_where(s, true);
  const Eigen::MatrixXd hessian = packed_hessian_lower(s, C, e, all);
  const double scale = hessian.diagonal().cwiseAbs().maxCoeff();
  check.stable = shifted_cholesky_succeeds(hessian, scale);
  if (check.stable || !want_direction) return check;
  check.minimum = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(hessian, Eigen::EigenvaluesOnly)
                      .eigenvalues()(0);
  check.direction = lowest_eigenvector(hessian, check.minimum, scale);
  return check;
}

Eigen::MatrixXd mirror_state(const KernelStructure& s, const Eigen::MatrixXd& C) {
  Eigen::MatrixXd out = C;
  for (int i = 0; i < s.M(); ++i)
    for (int j = 0; j < s.M(); ++j)
      if (s.is_odd_lag(i, j)) out(i, j) = -C(i, j);
  return out;
}

bool same_state(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).norm() < 1e-6 * (a.norm() + b.norm());
}

namespace {

double odd_lag_norm(const KernelStructure& s, const Eigen::MatrixXd& C) {
  double sum = 0.0;
  for (int i = 0; i < s.M(); ++i)
    for (int j = 0; j < s.M(); ++j)
      if (s.is_odd_lag(i, j)) sum += C(i, j) * C(i, j);
  return std::sqrt(sum);
}

}  // namespace

namespace {

// Everything of a state but its stability (F, q, f, residual, kind); status failed if the
// equations are not defined at C.
StationaryState evaluate_state(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude,
                               const Eigen::MatrixXd& symmetric_C, const std::string& origin) {
  StationaryState b;
  b.origin = origin;
  b.C = C;
  b.H = C;
  b.q = s.order_parameter(C);
  b.hessian_minimum = std::numeric_limits<double>::quiet_NaN();
  const LinearEvaluation e = evaluate_linear(s, C, amplitude);
  const bool odd_free = odd_lag_norm(s, C) < 1e-9 * C.norm();
  if (s.has_sign_symmetry() && !odd_free)
    b.kind = std::abs(b.q) > 1e-9 * C.norm() ? StateKind::broken : StateKind::other;
  else if (s.has_sign_symmetry() && symmetric_C.size() > 0 && same_state(C, symmetric_C))
    b.kind = StateKind::symmetric;
  else if (s.network().architecture == Architecture::dnn && symmetric_C.size() > 0 &&
           same_state(C, symmetric_C))
    b.kind = StateKind::symmetric;  // the DNN's state continued from the prior: no coherence at all
  else
    b.kind = StateKind::other;
  b.name = to_string(b.kind);
  if (!e.ok) {
    b.status = Status::failed;
    b.message = e.failure;
    return b;
  }
  b.f = s.predictions(C, e.readout);
  b.free_energy = linear_free_energy(C, e);
  b.residual = e.fixed_point_residual;
  b.status = Status::pending;  // until its stability is judged
  return b;
}

// Sets stable, hessian_minimum, status and message of an evaluated state from its Hessian check.
void judge_stability(const HessianCheck& h, double tolerance, StationaryState* b) {
  b->stable = h.stable;
  b->hessian_minimum = h.minimum;
  const bool converged = b->residual < tolerance;
  b->status = converged && b->stable ? Status::done : Status::not_converged;
  std::ostringstream msg;
  msg << b->origin;
  if (!converged) msg << "; residual " << b->residual << " above tolerance " << tolerance;
  if (!b->stable) {
    msg << "; a saddle of F (Hessian not positive definite";
    if (std::isfinite(h.minimum)) msg << ", smallest eigenvalue " << h.minimum;
    msg << ")";
  }
  b->message = msg.str();
}

}  // namespace

StationaryState make_state(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude,
                           const Eigen::MatrixXd& symmetric_C, double tolerance,
                           const std::string& origin, Eigen::VectorXd* negative_direction) {
  StationaryState b = evaluate_state(s, C, amplitude, symmetric_C, origin);
  if (b.status == Status::failed) return b;
  const HessianCheck h = free_energy_hessian(s, C, amplitude, negative_direction != nullptr);
  if (negative_direction) *negative_direction = h.direction;
  judge_stability(h, tolerance, &b);
  return b;
}

StationaryState make_mirror_state(const KernelStructure& s, const StationaryState& state,
                                  double amplitude, const Eigen::MatrixXd& symmetric_C,
                                  double tolerance, const std::string& origin) {
  StationaryState b = evaluate_state(s, mirror_state(s, state.C), amplitude, symmetric_C, origin);
  if (b.status == Status::failed || state.status == Status::failed) {
    if (b.status != Status::failed) {
      b.status = Status::failed;
      b.message = "the W -> -W image of a state where F is not defined";
    }
    return b;
  }
  HessianCheck h;
  h.defined = true;
  h.stable = state.stable;
  h.minimum = state.hessian_minimum;
  judge_stability(h, tolerance, &b);
  return b;
}

bool contains_state(const std::vector<StationaryState>& states, const Eigen::MatrixXd& C) {
  for (const auto& existing : states)
    if (same_state(existing.C, C)) return true;
  return false;
}

bool add_distinct(std::vector<StationaryState>* states, StationaryState state) {
  for (const auto& existing : *states)
    if (same_state(existing.C, state.C)) return false;
  states->push_back(std::move(state));
  return true;
}

int lowest_stable_state(const std::vector<StationaryState>& states) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(states.size()); ++i) {
    const auto& c = states[static_cast<std::size_t>(i)];
    if (c.status != Status::done) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const auto& b = states[static_cast<std::size_t>(best)];
    const double tie = 1e-12 * (1.0 + std::abs(b.free_energy));
    if (c.free_energy < b.free_energy - tie ||
        (std::abs(c.free_energy - b.free_energy) <= tie && c.q > b.q))
      best = i;
  }
  return best;
}

namespace {

bool positive_definite(const Eigen::MatrixXd& C) {
  return Eigen::LLT<Eigen::MatrixXd>(C).info() == Eigen::Success;
}

// C_sym with the lag-`lag` blocks C^{t,t+lag} raised by delta times the mean of the two diagonal
// blocks (a coherent seed; sign alternating with t/lag when `alternate`).
Eigen::MatrixXd lag_seed(const KernelStructure& s, const Eigen::MatrixXd& C, int lag, double delta,
                         bool alternate) {
  const int T = s.T(), P = s.P();
  Eigen::MatrixXd C0 = C;
  for (int t = 0; t + lag < T; ++t) {
    const double sign = alternate && ((t / lag) & 1) ? -1.0 : 1.0;
    const Eigen::MatrixXd block =
        0.5 * sign * delta *
        (C.block(t * P, t * P, P, P) + C.block((t + lag) * P, (t + lag) * P, P, P));
    C0.block(t * P, (t + lag) * P, P, P) += block;
    C0.block((t + lag) * P, t * P, P, P) += block.transpose();
  }
  return C0;
}

// L (I + S) L^T with C = L L^T and S a symmetric Gaussian matrix of Frobenius norm `size` < 1 (so
// still positive definite), keyed by (seed, point, 1000 + k).
Eigen::MatrixXd random_seed(const Eigen::MatrixXd& C, const StateSearchOptions& options, int k,
                            double size) {
  PhiloxStream stream(options.seed, options.point_index, 1000 + static_cast<std::uint64_t>(k),
                      StreamPurpose::theory_monte_carlo);
  const int M = static_cast<int>(C.rows());
  Eigen::MatrixXd S(M, M);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j <= i; ++j) S(i, j) = S(j, i) = stream.normal();
  S *= size / S.norm();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(C).matrixL();
  return L * (Eigen::MatrixXd::Identity(M, M) + S) * L.transpose();
}

class StateSearch {
 public:
  StateSearch(const KernelStructure& s, double amplitude, const Eigen::MatrixXd& C_symmetric,
              const StateSearchOptions& options)
      : s_(s),
        amplitude_(amplitude),
        C_symmetric_(C_symmetric),
        options_(options),
        all_(entries_where(s, true)),
        even_(entries_where(s, false)) {}

  // Adds the stationary state at C (already converged) and descends from it if it is a saddle.
  void add(const Eigen::MatrixXd& C, const std::string& origin, int depth) {
    Eigen::VectorXd direction;
    StationaryState state =
        make_state(s_, C, amplitude_, C_symmetric_, options_.tolerance, origin, &direction);
    if (state.status == Status::failed) return;
    const bool saddle = !state.stable && state.hessian_minimum < 0.0;
    if (!add_distinct(&states_, std::move(state))) return;
    if (!saddle || depth >= options_.max_descent_depth) return;
    const Eigen::MatrixXd V = unpack(direction, all_, s_.M());
    for (double sign : {1.0, -1.0}) {
      double delta = 0.05 * C.norm() / V.norm();
      for (int k = 0; k < 6 && !positive_definite(C + sign * delta * V); ++k) delta *= 0.5;
      std::ostringstream how;
      how << "descent from the " << origin << " saddle along " << (sign > 0 ? "+" : "-")
          << "its negative-curvature direction";
      settle(C + sign * delta * V, how.str(), depth + 1);
    }
  }

  // Minimizes F from C0 and adds the state it reaches.
  void settle(const Eigen::MatrixXd& C0, const std::string& origin, int depth) {
    check_deadline();
    if (!positive_definite(C0)) return;
    MinimizeOptions minimize;
    minimize.tolerance = options_.tolerance;
    // A W -> -W invariant start stays invariant under the descent (F's gradient has no odd-lag
    // part there): minimize within the even-lag sector. The full Hessian's negative odd-lag
    // curvature would otherwise force a Levenberg-Marquardt shift on every step, and the descent
    // would creep to the sector's minimum linearly; add() descends from it along the odd-lag
    // directions if it is a saddle of F.
    const bool invariant = s_.has_sign_symmetry() && odd_lag_norm(s_, C0) == 0.0;
    const LinearSolveResult r =
        minimize_free_energy(s_, C0, amplitude_, invariant ? even_ : all_, minimize);
    if (!r.converged) return;
    add(r.C, origin, depth);
  }

  void seeds() {
    if (s_.T() >= 2) {
      for (double delta : {0.3, 0.05})
        settle(lag_seed(s_, C_symmetric_, 1, delta, false), "odd-lag seed", 0);
    }
    if (s_.T() >= 3) {
      settle(lag_seed(s_, C_symmetric_, 2, 0.3, false), "lag-2 seed", 0);
      settle(lag_seed(s_, C_symmetric_, 2, 0.3, true), "period-4 seed", 0);
    }
    if (s_.network().architecture == Architecture::rnn)
      for (int k = 0; k < options_.random_seeds; ++k)
        settle(random_seed(C_symmetric_, options_, k, 0.6), "random seed", 0);
  }

  void add_mirrors() {
    if (!s_.has_sign_symmetry()) return;
    const std::size_t n = states_.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (states_[i].kind != StateKind::broken) continue;
      add_distinct(&states_,
                   make_mirror_state(s_, states_[i], amplitude_, C_symmetric_, options_.tolerance,
                                     "W -> -W image of a " + states_[i].origin));
    }
  }

  std::vector<StationaryState> take() { return std::move(states_); }

 private:
  const KernelStructure& s_;
  double amplitude_;
  Eigen::MatrixXd C_symmetric_;
  StateSearchOptions options_;
  EntryList all_, even_;
  std::vector<StationaryState> states_;
};

}  // namespace

Eigen::MatrixXd lag2_twin(const KernelStructure& s, const Eigen::MatrixXd& C) {
  Eigen::MatrixXd out = C;
  const int P = s.data().P;
  for (int i = 0; i < s.M(); ++i)
    for (int j = 0; j < s.M(); ++j)
      if (std::abs(i / P - j / P) % 4 == 2) out(i, j) = -C(i, j);
  return out;
}

void add_lag2_twins(const KernelStructure& s, double amplitude, const Eigen::MatrixXd& symmetric_C,
                    double tolerance, std::vector<StationaryState>* states) {
  // The twin symmetry needs inputs and readout at lag 0, as in the tasks with the W -> -W symmetry.
  if (!s.has_sign_symmetry()) return;
  const std::size_t found = states->size();
  for (std::size_t k = 0; k < found; ++k) {
    const Eigen::MatrixXd C = (*states)[k].C;
    if ((*states)[k].status == Status::failed || odd_lag_norm(s, C) >= 1e-9 * C.norm()) continue;
    const Eigen::MatrixXd twin = lag2_twin(s, C);
    if ((twin - C).norm() < 1e-6 * C.norm() || contains_state(*states, twin)) continue;
    StationaryState state =
        make_state(s, twin, amplitude, symmetric_C, tolerance, "lag-2 twin of a found state");
    if (state.status != Status::failed && state.residual < tolerance)
      add_distinct(states, std::move(state));
  }
}

std::vector<StationaryState> search_linear_states(const KernelStructure& s, double amplitude,
                                                  const Eigen::MatrixXd& C_symmetric,
                                                  const StateSearchOptions& options) {
  StateSearch search(s, amplitude, C_symmetric, options);
  search.add(C_symmetric, s.has_sign_symmetry() ? "symmetric branch" : "prior-continued state", 0);
  search.seeds();
  search.add_mirrors();
  std::vector<StationaryState> states = search.take();
  add_lag2_twins(s, amplitude, C_symmetric, options.tolerance, &states);
  return states;
}

}  // namespace kernelsweep
