#include "theory/saddle_point.hpp"

#include <Eigen/Cholesky>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "model/deadline.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/kernel_structure.hpp"

namespace kernelsweep {

std::string to_string(BranchChoice choice) {
  switch (choice) {
    case BranchChoice::automatic:
      return "auto";
    case BranchChoice::symmetric:
      return "symmetric";
    case BranchChoice::broken:
      return "broken";
  }
  return "unknown";
}

void check_well_posed(const TheoryProblem& problem) {
  const KernelStructure s(problem.network, problem.data);
  Eigen::LLT<Eigen::MatrixXd> llt(s.linear_prior_kernel());
  if (llt.info() != Eigen::Success)
    throw std::invalid_argument(
        "K is not positive definite at the prior kernel (inputs at t=0 span fewer than P "
        "dimensions: check task.D >= task.P and model.u, model.w > 0)");
}

namespace {

// The answer among the erf symmetric and broken states (docs/theory.md 3.2): the lowest-F state
// among the stable ones; the lowest-F state when neither is proven stable (then not done anyway).
int erf_selection(const StationaryState& symmetric, const StationaryState& broken) {
  if (broken.status == Status::failed) return 0;
  if (symmetric.status == Status::failed) return 1;
  if (broken.stable != symmetric.stable) return broken.stable ? 1 : 0;
  return broken.free_energy < symmetric.free_energy ? 1 : 0;
}

// The erf theory's symmetric and broken branches (Monte Carlo), selected by F among the stable.
void solve_erf_point(const KernelStructure& s, const TheoryOptions& options,
                     TheorySummary* summary) {
  const TheoryProblem problem{s.network(), s.data()};
  BranchSolution symmetric = solve_erf_branch(s, options, false);
  summary->states.push_back(symmetric);

  std::string no_broken_reason;
  // The broken-seeded run is the only test of the symmetric state's odd sector (the symmetric run
  // projects it out): if it did not settle, neither answer is verified.
  std::string unsettled;
  if (options.branch != BranchChoice::symmetric) {
    if (problem.network.architecture == Architecture::dnn) {
      no_broken_reason = "the DNN has no temporal coherence (q = 0 identically)";
    } else if (!s.has_sign_symmetry()) {
      no_broken_reason = "the task has no W -> -W symmetry";
    } else {
      BranchSolution broken = solve_erf_branch(s, options, true);
      if (broken.status == Status::not_converged) unsettled = broken.message;
      if (broken.status != Status::failed && std::abs(broken.q) > 4.0 * broken.q_stderr) {
        broken.kind = StateKind::broken;
        summary->states.push_back(broken);
      } else {
        std::ostringstream msg;
        msg << "the seeded iteration returned to q = " << broken.q << " +- " << broken.q_stderr
            << " (within 4 Monte-Carlo errors of 0): lam is below lambda_c or too close to it";
        no_broken_reason = msg.str();
      }
    }
  }

  int selected = 0;
  if (options.branch == BranchChoice::broken) {
    if (summary->states.size() < 2) {
      summary->status = Status::failed;
      summary->message = "no broken branch: " + no_broken_reason;
      return;
    }
    selected = 1;
  } else if (options.branch == BranchChoice::automatic && summary->states.size() == 2) {
    selected = erf_selection(summary->states[0], summary->states[1]);
  }
  summary->selected = selected;
  const BranchSolution& chosen = summary->states[static_cast<std::size_t>(selected)];
  summary->status = chosen.status;
  // A stable answer is only proven if no state of lower F might be stable too.
  std::string lower_unproven;
  if (options.branch == BranchChoice::automatic && chosen.stable)
    for (const auto& other : summary->states)
      if (&other != &chosen && other.status != Status::failed && !other.stable &&
          other.free_energy < chosen.free_energy &&
          !(other.map_eigenvalue - options.stability_sigmas * other.map_eigenvalue_stderr > 1.0))
        lower_unproven = other.name;
  std::ostringstream msg;
  msg << chosen.name << " branch";
  if (options.branch == BranchChoice::automatic)
    msg << (summary->states.size() == 2
                ? (chosen.stable ? " (lowest free energy among the stable states)"
                                 : " (lowest free energy; no state proven stable)")
                : " (the only branch)");
  if (!chosen.message.empty()) msg << ": " << chosen.message;
  if (!no_broken_reason.empty() && options.branch != BranchChoice::symmetric)
    msg << "; no broken branch: " << no_broken_reason;
  if (!lower_unproven.empty()) {
    summary->status = worse(summary->status, Status::not_converged);
    msg << "; unverified: the " << lower_unproven
        << " state has lower F and its stability is undetermined";
  }
  if (!unsettled.empty() && options.branch == BranchChoice::automatic) {
    summary->status = worse(summary->status, Status::not_converged);
    msg << "; unverified: the broken-seeded iteration did not settle (" << unsettled << ")";
  }
  summary->message = msg.str();
}

const StationaryState* find_state(const TheorySummary& summary, StateKind kind) {
  const StationaryState* best = nullptr;
  for (const auto& st : summary.states)
    if (st.kind == kind && st.status != Status::failed &&
        (!best || st.free_energy < best->free_energy))
      best = &st;
  return best;
}

}  // namespace

void add_landau_curve(const TheoryOptions& options, const TheoryProblem& problem,
                      TheorySummary* summary) {
  const StationaryState* symmetric = find_state(*summary, StateKind::symmetric);
  if (problem.network.activation != Activation::linear ||
      problem.network.architecture != Architecture::rnn || problem.data.T < 2 || !symmetric) {
    summary->landau = LandauCurve{{}, {}, "the Landau curve needs a linear RNN with T >= 2"};
    return;
  }
  const KernelStructure s(problem.network, problem.data);
  summary->landau =
      linear_landau_curve(s, options, *symmetric, find_state(*summary, StateKind::broken));
}

void solve_saddle_point(const TheoryOptions& options, const TheoryProblem& problem,
                        TheorySummary* summary) {
  *summary = TheorySummary{};
  try {
    check_well_posed(problem);
  } catch (const std::invalid_argument& e) {
    summary->status = Status::failed;
    summary->message = e.what();
    return;
  }
  const KernelStructure s(problem.network, problem.data);
  const bool linear = problem.network.activation == Activation::linear;
  try {
    ScopedDeadline deadline(options.time_limit, "theory.time_limit");
    if (linear) {
      solve_linear_point(s, options, summary);
    } else {
      solve_erf_point(s, options, summary);
    }
    if (summary->status == Status::failed || summary->selected < 0) return;
    summary->generalization_error = generalization_error(problem.data, summary->solution().f);

    if (options.landau) add_landau_curve(options, problem, summary);
  } catch (const TimeLimitExceeded& e) {
    summary->status = summary->states.empty() ? Status::failed : Status::not_converged;
    summary->message = std::string(e.what()) + " after " + std::to_string(summary->states.size()) +
                       " stationary states" +
                       (summary->message.empty() ? "" : "; " + summary->message);
    if (summary->selected >= static_cast<int>(summary->states.size())) summary->selected = -1;
  }
}

int TheorySummary::stable_count() const {
  int n = 0;
  for (const auto& st : states) n += st.stable ? 1 : 0;
  return n;
}

std::string TheorySummary::report() const {
  std::ostringstream out;
  out << "kernel theory: " << to_string(status) << "\n  " << message << "\n";
  if (states.empty()) return out.str();
  char line[256];
  std::snprintf(line, sizeof line, "  %-3s %-10s %-14s %-24s %-24s %-10s %s\n", "", "branch",
                "status", "q", "free energy F", "residual", "iterations");
  out << line;
  for (std::size_t i = 0; i < states.size(); ++i) {
    const auto& b = states[i];
    char q[64], F[64];
    if (b.C_stderr.size() > 0) {
      std::snprintf(q, sizeof q, "%.6g +- %.2g", b.q, b.q_stderr);
      std::snprintf(F, sizeof F, "%.8g +- %.2g", b.free_energy, b.free_energy_stderr);
    } else {
      std::snprintf(q, sizeof q, "%.10g", b.q);
      std::snprintf(F, sizeof F, "%.12g", b.free_energy);
    }
    std::snprintf(line, sizeof line, "  %-3s %-10s %-14s %-24s %-24s %-10.2e %d\n",
                  static_cast<int>(i) == selected ? "*" : "", b.name.c_str(),
                  to_string(b.status).c_str(), q, F, b.residual, b.iterations);
    out << line;
  }
  for (const auto& b : states)
    if (std::isfinite(b.map_eigenvalue)) {
      std::snprintf(line, sizeof line,
                    "  %-10s leading map eigenvalue %.4f +- %.4f (%s sector): %s\n", b.name.c_str(),
                    b.map_eigenvalue, b.map_eigenvalue_stderr, b.map_eigenvalue_sector.c_str(),
                    b.stable ? "stable" : "not proven stable");
      out << line;
    }
  if (selected >= 0 && status != Status::failed) {
    out << "  generalization error: " << generalization_error << "\n";
    const auto& f = solution().f;
    out << "  outputs f (mu = t*P + p):";
    for (Eigen::Index i = 0; i < f.size(); ++i) out << ' ' << f(i);
    out << "\n";
  }
  if (landau) {
    out << "  Landau curve F(q): " << landau->q.size() << " points";
    if (!landau->message.empty()) out << " (" << landau->message << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace kernelsweep
