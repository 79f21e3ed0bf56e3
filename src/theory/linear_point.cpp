// One grid point of the linear theory (docs/theory.md 3.1-3.2): the symmetric state by continuation in
// the signal, every further stationary state the seeds reach, the stability of each from the full
// Hessian of F, and the selection of the lowest-F stable state.
#include <sstream>

#include "theory/branch_solvers.hpp"
#include "theory/linear_states.hpp"

namespace kernelsweep {

namespace {

int lowest_free_energy(const std::vector<StationaryState>& states) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(states.size()); ++i)
    if (states[i].status != Status::failed &&
        (best < 0 || states[i].free_energy < states[static_cast<std::size_t>(best)].free_energy))
      best = i;
  return best;
}

int lowest_stable_broken(const std::vector<StationaryState>& states) {
  std::vector<StationaryState> broken;
  std::vector<int> index;
  for (int i = 0; i < static_cast<int>(states.size()); ++i)
    if (states[i].kind == StateKind::broken) {
      broken.push_back(states[i]);
      index.push_back(i);
    }
  const int b = lowest_stable_state(broken);
  return b < 0 ? -1 : index[static_cast<std::size_t>(b)];
}

}  // namespace

void solve_linear_point(const KernelStructure& s, const TheoryOptions& options,
                        TheorySummary* summary) {
  BranchSolution symmetric = solve_linear_symmetric(s, options);
  if (symmetric.status == Status::failed) {
    summary->states = {symmetric};
    summary->status = Status::failed;
    summary->message = "symmetric branch: " + symmetric.message;
    return;
  }
  const std::string root =
      s.has_sign_symmetry() ? "symmetric branch" : "state continued from the prior kernel";
  const std::string how = symmetric.message.empty() ? root : root + " (" + symmetric.message + ")";
  if (options.branch == BranchChoice::symmetric) {
    summary->states = {make_state(s, symmetric.C, 1.0, symmetric.C, options.tolerance, how)};
  } else {
    StateSearchOptions search;
    search.tolerance = options.tolerance;
    search.random_seeds = options.random_seeds;
    search.seed = options.seed;
    search.point_index = options.point_index;
    summary->states = search_linear_states(s, 1.0, symmetric.C, search);
    summary->states.front().origin = how;
  }
  summary->states.front().iterations = symmetric.iterations;
  auto& states = summary->states;
  const int stable = summary->stable_count();
  std::ostringstream msg;
  int selected = -1;
  switch (options.branch) {
    case BranchChoice::symmetric:
      selected = 0;
      break;
    case BranchChoice::broken:
      selected = lowest_stable_broken(states);
      break;
    case BranchChoice::automatic:
      selected = lowest_stable_state(states);
      break;
  }
  if (selected < 0 && options.branch == BranchChoice::broken) {
    summary->status = Status::failed;
    msg << "no broken branch: no stable state with q != 0 among the " << states.size()
        << " stationary states found"
        << (s.has_sign_symmetry() || s.network().architecture == Architecture::dnn
                ? ""
                : " (the task has no W -> -W symmetry)");
    summary->message = msg.str();
    return;
  }
  if (selected < 0) {
    selected = lowest_free_energy(states);
    msg << "no stable state: the lowest-F stationary state of " << states.size()
        << " found is not a verified local minimum; ";
  }
  summary->selected = selected;
  const StationaryState& chosen = states[static_cast<std::size_t>(selected)];
  summary->status = chosen.status;
  msg << chosen.name << " state";
  if (options.branch == BranchChoice::automatic)
    msg << " (lowest F of " << stable << " stable among " << states.size() << " stationary states)";
  msg << ": " << chosen.message;
  summary->message = msg.str();
}

}  // namespace kernelsweep
