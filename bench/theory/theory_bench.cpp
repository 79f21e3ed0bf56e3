// Speed of one grid point's kernel theory (issue: foundation). Run:
// build/<preset>/bench/theory_bench
//   linear T=8, P=4 (M=32): symmetric only (theory.branch symmetric, lam below lambda_c = 0.389)
//   and the full state search (lam = 1); a traced 200-point lam line at T=8 (issue 9);
//   linear T=4, P=4 both branches and lambda_c; erf T=4, P=4 with the default 4000 chains, with its
//   Monte-Carlo error reported as counters.
#include <benchmark/benchmark.h>

#include "model/memory_tuning.hpp"
#include "theory/critical_point.hpp"
#include "theory/dense_kernels.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/lambda_line.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/linear_states.hpp"
#include "theory/parity_blocks.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

TheoryProblem endpoint_problem(int T, double lam, Activation activation = Activation::linear) {
  NetworkSpec n;
  n.T = T;
  n.activation = activation;
  TaskSpec task;
  task.lam = lam;
  return TheoryProblem{n, make_dataset(task, T)};
}

void run_point(benchmark::State& state, const TheoryProblem& problem, const TheoryOptions& options,
               std::size_t minimum_states) {
  TheorySummary summary;
  for (auto _ : state) {
    solve_saddle_point(options, problem, &summary);
    benchmark::DoNotOptimize(summary.status);
  }
  if (summary.states.size() < minimum_states || summary.status != Status::done)
    state.SkipWithError(("unexpected result: " + summary.message).c_str());
  state.counters["residual"] = summary.solution().residual;
  state.counters["q"] = summary.solution().q;
  state.counters["states"] = double(summary.states.size());
}

void BM_LinearSymmetricOnly_T8P4(benchmark::State& state) {
  TheoryOptions options;
  options.branch = BranchChoice::symmetric;
  run_point(state, endpoint_problem(8, 0.3), options, 1);
}
void BM_LinearBothBranches_T8P4(benchmark::State& state) {
  run_point(state, endpoint_problem(8, 1.0), TheoryOptions{}, 2);
}
void BM_LinearBothBranches_T4P4(benchmark::State& state) {
  run_point(state, endpoint_problem(4, 1.5), TheoryOptions{}, 2);
}

// Issue 9: 200 signals in [1, 2] at T=8, P=4, every branch traced (goal < 5 s on one core).
void BM_LambdaLine_T8P4_200(benchmark::State& state) {
  NetworkSpec n;
  n.T = 8;
  std::vector<double> lams;
  for (int i = 0; i < 200; ++i) lams.push_back(1.0 + i / 199.0);
  std::vector<TheorySummary> line;
  for (auto _ : state) {
    trace_lambda_line(TheoryOptions{}, n, TaskSpec{}, lams, &line);
    benchmark::DoNotOptimize(line.data());
  }
  int done = 0, states = 0;
  for (const auto& s : line) {
    done += s.status == Status::done ? 1 : 0;
    states += static_cast<int>(s.states.size());
  }
  state.counters["done"] = done;
  state.counters["states_per_point"] = double(states) / double(line.size());
}

// The pieces of a point at T=8, P=4 (M=32, 528 packed entries): the state of a symmetric point
// (lam 0.3) and the broken state at lam 1.2, solved once.
struct PointPieces {
  TheoryProblem problem;
  KernelStructure s;
  StationaryState state;
  explicit PointPieces(double lam, BranchChoice branch)
      : problem(endpoint_problem(8, lam)), s(problem.network, problem.data) {
    TheoryOptions options;
    options.branch = branch;
    TheorySummary summary;
    solve_saddle_point(options, problem, &summary);
    state = summary.solution();
  }
};
const PointPieces& symmetric_pieces() {
  static const PointPieces p(0.3, BranchChoice::symmetric);
  return p;
}
const PointPieces& broken_pieces() {
  static const PointPieces p(1.2, BranchChoice::automatic);
  return p;
}

void BM_FixedPointMap_T8(benchmark::State& state) {
  const PointPieces& p = symmetric_pieces();
  const ParityBlocks blocks(p.s);
  for (auto _ : state) {
    FixedPointImage image = invariant_fixed_point_map(p.s, blocks, p.state.C, 1.0);
    benchmark::DoNotOptimize(image.next_C.data());
  }
}
void BM_SectorHessianCheck_T8(benchmark::State& state) {
  const PointPieces& p = symmetric_pieces();
  for (auto _ : state) {
    HessianCheck h = free_energy_hessian(p.s, p.state.C, 1.0, false);
    benchmark::DoNotOptimize(h.stable);
  }
}
void BM_FullResidualJacobian_T8(benchmark::State& state) {
  const PointPieces& p = broken_pieces();
  const LinearEvaluation e = evaluate_linear(p.s, p.state.C, 1.0);
  const EntryList all = entries_where(p.s, true);
  for (auto _ : state) {
    Eigen::MatrixXd J = residual_jacobian(p.s, p.state.C, e, all);
    benchmark::DoNotOptimize(J.data());
  }
}
void BM_FullHessianCheck_T8(benchmark::State& state) {
  const PointPieces& p = broken_pieces();
  for (auto _ : state) {
    HessianCheck h = free_energy_hessian(p.s, p.state.C, 1.0, false);
    benchmark::DoNotOptimize(h.stable);
  }
  if (p.state.q == 0.0) state.SkipWithError("the lam = 1.2 state is not broken");
}
void BM_Cholesky528(benchmark::State& state) {
  const PointPieces& p = broken_pieces();
  const LinearEvaluation e = evaluate_linear(p.s, p.state.C, 1.0);
  const EntryList all = entries_where(p.s, true);
  Eigen::MatrixXd H = residual_jacobian(p.s, p.state.C, e, all);
  to_packed_hessian(&H, all);
  DenseCholesky llt;
  for (auto _ : state) benchmark::DoNotOptimize(llt.compute(H));
}
void BM_Evaluate_T8(benchmark::State& state) {
  const PointPieces& p = broken_pieces();
  for (auto _ : state) {
    LinearEvaluation e = evaluate_linear(p.s, p.state.C, 1.0);
    benchmark::DoNotOptimize(e.next_C.data());
  }
}

void BM_CriticalPoint_T4P4(benchmark::State& state) {
  const TheoryProblem p = endpoint_problem(4, 1.0);
  TaskSpec task;
  CriticalPointResult r;
  for (auto _ : state) {
    r = analyze_transition(TheoryOptions{}, p.network, task, CriticalPointOptions{});
    benchmark::DoNotOptimize(r.lambda_c);
  }
  state.counters["lambda_c"] = r.lambda_c;
}

void BM_ErfBothBranches_T4P4(benchmark::State& state) {
  TheoryOptions options;
  options.max_iterations = 4000;  // the config default for erf (a cap: the drift rule stops)
  const TheoryProblem p = endpoint_problem(4, 1.5, Activation::erf);
  TheorySummary summary;
  for (auto _ : state) {
    solve_saddle_point(options, p, &summary);
    benchmark::DoNotOptimize(summary.status);
  }
  if (summary.status == Status::failed) state.SkipWithError(summary.message.c_str());
  const BranchSolution& b = summary.solution();
  state.counters["branches"] = double(summary.states.size());
  state.counters["q"] = b.q;
  state.counters["q_stderr"] = b.q_stderr;
  state.counters["C_rel_stderr"] = b.C_stderr.norm() / b.C.norm();
  state.counters["F_stderr"] = b.free_energy_stderr;
}

BENCHMARK(BM_LinearSymmetricOnly_T8P4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LinearBothBranches_T8P4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LinearBothBranches_T4P4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LambdaLine_T8P4_200)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_FixedPointMap_T8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SectorHessianCheck_T8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullResidualJacobian_T8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullHessianCheck_T8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Cholesky528)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Evaluate_T8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CriticalPoint_T4P4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ErfBothBranches_T4P4)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace kernelsweep

// As the kernelsweep executable does (model/memory_tuning.hpp).
int main(int argc, char** argv) {
  kernelsweep::keep_freed_memory_for_reuse();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
