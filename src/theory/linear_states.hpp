#pragma once
// Stationary states of the linear theory at one signal (docs/theory.md 3.2): stability from the
// full Hessian of F(C) (every allowed entry, both W -> -W sectors), descent from saddles along
// their negative-curvature directions (both signs), and a search from several seeds (symmetric
// state, odd-lag, lag-2 and random perturbations) that keeps every distinct state it meets.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "theory/kernel_structure.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

// Stable iff lambda_min(Hess F) >= -kStabilityTolerance * max_k |Hess F|_kk (a marginal state, e.g.
// the symmetric state exactly at lambda_c of a second-order transition, counts as stable).
inline constexpr double kStabilityTolerance = 1e-9;

struct HessianCheck {
  bool defined = false;  // F is defined at C (C, K, v C_SS + kappa positive definite)
  bool stable = false;
  double minimum = 0.0;       // smallest eigenvalue (NaN unless want_direction and unstable)
  Eigen::VectorXd direction;  // its packed unit eigenvector over entries_where(s, true)
};

// The packed Hessian of F(C) (KL form) at C: a Cholesky decides stability (O(n^3 / 3)); the
// eigen-decomposition runs only for an unstable state when its direction is asked for.
HessianCheck free_energy_hessian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                 double amplitude, bool want_direction);

// C with every odd-lag entry negated: the W -> -W image (q -> -q) of a state.
Eigen::MatrixXd mirror_state(const KernelStructure& s, const Eigen::MatrixXd& C);

// A fully evaluated state at signal `amplitude` (F, q, f, residual, stability, kind).
// `symmetric_C` (may be empty) is the symmetric state there, used to tell symmetric from other.
// status: done iff converged (residual < tolerance) and stable. negative_direction (optional)
// receives the packed direction of most negative curvature of a saddle (and only then is the
// eigen-decomposition done and hessian_minimum set; otherwise it is NaN).
StationaryState make_state(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude,
                           const Eigen::MatrixXd& symmetric_C, double tolerance,
                           const std::string& origin,
                           Eigen::VectorXd* negative_direction = nullptr);

// The W -> -W image of an evaluated state (tasks with the sign symmetry): F, q, f and residual are
// evaluated at mirror_state(C); the stability is the original's. F(S C S) = F(C) for the signature
// S = diag((-1)^t), so the packed Hessian at the image is Pi Hess(C) Pi with Pi = diag(+-1) (the
// sign of each entry under the mirror): the same spectrum (tests/theory/linear_speed_test.cpp
// checks the two Hessians entry by entry).
StationaryState make_mirror_state(const KernelStructure& s, const StationaryState& state,
                                  double amplitude, const Eigen::MatrixXd& symmetric_C,
                                  double tolerance, const std::string& origin);

// True if one of `states` is the same state as C (same_state).
bool contains_state(const std::vector<StationaryState>& states, const Eigen::MatrixXd& C);

// True if the two kernels are the same state (relative Frobenius distance below 1e-6).
bool same_state(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);

struct StateSearchOptions {
  double tolerance = 1e-12;
  int random_seeds = 2;
  std::uint64_t seed = 1, point_index = 0;  // Philox key of the random seeds
  int max_descent_depth = 3;                // saddle -> descent -> saddle ... at most this deep
};

// Every distinct stationary state reached from the seeds around the symmetric state C_symmetric at
// `amplitude` (C_symmetric included; mirrors of broken states added). Unstable states are kept
// (marked), and each was descended from.
std::vector<StationaryState> search_linear_states(const KernelStructure& s, double amplitude,
                                                  const Eigen::MatrixXd& C_symmetric,
                                                  const StateSearchOptions& options);

// C^{ts} -> i^{t-s} C^{ts}: for a kernel without odd-lag entries, the lag 2, 6, 10, ... entries
// negated. Where the inputs and the readout sit at lag 0 (endpoint task) it maps stationary states
// to stationary states with the same F (docs/theory.md 3.2), though the odd-sector stability can
// differ: the "period-4" states come in such twins.
Eigen::MatrixXd lag2_twin(const KernelStructure& s, const Eigen::MatrixXd& C);
// Adds the lag-2 twin of every odd-lag-free state with lag-2 entries that is not yet in `states`
// and is verified stationary at `amplitude` (residual below tolerance): a search that reached one
// twin then lists both.
void add_lag2_twins(const KernelStructure& s, double amplitude, const Eigen::MatrixXd& symmetric_C,
                    double tolerance, std::vector<StationaryState>* states);

// Adds `state` to `states` unless an equal state is already there; returns whether it was added.
bool add_distinct(std::vector<StationaryState>* states, StationaryState state);

// Index of the lowest-F stable state with status done (ties within 1e-12 relative: q > 0 first),
// -1 if none.
int lowest_stable_state(const std::vector<StationaryState>& states);

}  // namespace kernelsweep
