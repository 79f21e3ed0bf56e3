// Time and bias of the erf kernel theory (issue 11) at the Fig. 2 point (erf RNN, sinusoid, T=10,
// lam=0.2) and the T=4 endpoint point (P=4, lam=1.5, symmetric branch): default settings against a
// long reference run (4x the chains, a window 3x as long, another seed). Run:
//   build/<preset>/bench/erf_bench [fig2|t4|t8|all] [--no-reference]
// Prints wall time, q, F and C with their reported errors, and the default run's deviation from
// the reference in units of the combined error; and the stability check's own cost (issue 9: the
// map-Jacobian eigenvalues at the returned state, timed alone on fresh draws there) against the
// whole solve. One core; note the machine load when quoting.
#include <Eigen/Cholesky>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "model/memory_tuning.hpp"
#include "random/philox_stream.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/elliptical_slice_sampler.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/map_stability.hpp"

namespace kernelsweep {
namespace {

struct BenchPoint {
  const char* name;
  NetworkSpec network;
  TaskSpec task;
};

BenchPoint fig2_point() {
  BenchPoint p{"fig2 sinusoid T=10 lam=0.2", {}, {}};
  p.network.activation = Activation::erf;
  p.network.T = 10;
  p.task.kind = TaskKind::sinusoid;
  p.task.P = p.task.D = 1;
  p.task.lam = 0.2;
  return p;
}

BenchPoint endpoint_point(int T) {
  BenchPoint p{
      T == 4 ? "endpoint T=4 P=4 lam=1.5 (symmetric)" : "endpoint T=8 P=4 lam=1.5 (symmetric)",
      {},
      {}};
  p.network.activation = Activation::erf;
  p.network.T = T;
  p.task.lam = 1.5;
  return p;
}

struct Timed {
  BranchSolution b;
  double seconds = 0.0;
};

Timed run(const KernelStructure& s, const TheoryOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Timed t{solve_erf_branch(s, options, false), 0.0};
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

void print(const char* label, const Timed& t, const KernelStructure& s) {
  if (t.b.C.size() == 0) {  // failed or stopped before the first windows: no kernels
    std::printf("  %-9s %-13s %7.2f s  %5d it: %s\n", label, to_string(t.b.status).c_str(),
                t.seconds, t.b.iterations, t.b.message.c_str());
    return;
  }
  const int last = s.M() - 1;
  std::printf(
      "  %-9s %-13s %7.2f s  %5d it (window %4d)  q = %.5f +- %.5f  F = %.5f +- %.4f  "
      "C_last = %.5f +- %.5f\n",
      label, to_string(t.b.status).c_str(), t.seconds, t.b.iterations, t.b.window, t.b.q,
      t.b.q_stderr, t.b.free_energy, t.b.free_energy_stderr, t.b.C(last, last),
      t.b.C_stderr(last, last));
}

// The stability check alone at the solve's state: draws of p there (as many chains as the solve's
// free-energy sampler, annealed in and equilibrated), then map_stability, timed.
void time_stability(const KernelStructure& s, const TheoryOptions& options, const Timed& solve) {
  const BranchSolution& b = solve.b;
  const Eigen::MatrixXd K = s.prior_covariance(b.C);
  const Eigen::LLT<Eigen::MatrixXd> llt(K);
  const Eigen::MatrixXd K_inv = llt.solve(Eigen::MatrixXd::Identity(s.M(), s.M()));
  const Eigen::MatrixXd C_hat =
      s.network().w * s.shift_transpose(K_inv * b.H * K_inv - K_inv) + s.readout(b.C, 1.0).tilt;
  const Eigen::MatrixXd L = llt.matrixL();
  EllipticalSliceSampler sampler(s.M(), options.samples, s.network().activation,
                                 PhiloxStream(99, 0, 0, StreamPurpose::theory_monte_carlo));
  sampler.draw_from_prior(L);
  for (int k = 1; k <= 20; ++k) sampler.sweep(L, (k / 20.0) * C_hat, 2);
  sampler.sweep(L, C_hat, 60);
  const bool symmetric = s.has_sign_symmetry() && std::abs(b.q) == 0.0;
  // As the solve does (erf_branches.cpp stability_at): the chains at 4 times, 5 sweeps apart,
  // grouped by chain into the 20 batches; the 15 extra sweeps are part of the check's cost.
  const auto start = std::chrono::steady_clock::now();
  const int batches = 20, snapshots = 4, size = options.samples / batches;
  Eigen::MatrixXd draws(s.M(), size * batches * snapshots);
  for (int k = 0; k < snapshots; ++k) {
    if (k > 0) sampler.sweep(L, C_hat, 5);
    for (int g = 0; g < batches; ++g)
      draws.middleCols((g * snapshots + k) * size, size) =
          sampler.states().middleCols(g * size, size);
  }
  const MapStability st = map_stability(s, b.C, b.H, draws, symmetric, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  stability check: %.3f s = %.2f %% of the solve (%.2f s); %s\n", seconds,
              100.0 * seconds / solve.seconds, solve.seconds, st.message.c_str());
  std::printf("  solve's own verdict: map eigenvalue %.4f +- %.4f (%s), stable %d\n",
              b.map_eigenvalue, b.map_eigenvalue_stderr, b.map_eigenvalue_sector.c_str(),
              int(b.stable));
}

void bench(const BenchPoint& point, bool with_reference) {
  const Dataset data = make_dataset(point.task, point.network.T);
  const KernelStructure s(point.network, data);
  std::printf("%s\n", point.name);
  TheoryOptions options;
  options.max_iterations = 4000;  // the config default for erf
  const Timed standard = run(s, options);
  print("default", standard, s);
  std::printf("    %s\n", standard.b.message.c_str());
  if (standard.b.C.size() > 0) time_stability(s, options, standard);
  if (!with_reference || standard.b.C.size() == 0) return;
  TheoryOptions reference_options = options;
  reference_options.samples = 4 * options.samples;
  reference_options.window = 3 * standard.b.window;
  reference_options.max_iterations = 20000;
  reference_options.seed = 1001;
  const Timed reference = run(s, reference_options);
  print("reference", reference, s);
  if (reference.b.C.size() == 0) return;
  const int last = s.M() - 1;
  const auto z = [](double a, double ea, double b, double eb) {
    return (a - b) / std::hypot(ea, eb);
  };
  std::printf(
      "  default - reference: q %+.5f (%+.1f sigma, %+.2f %%), F %+.4f (%+.1f sigma), C_last %+.5f "
      "(%+.1f sigma)\n",
      standard.b.q - reference.b.q,
      z(standard.b.q, standard.b.q_stderr, reference.b.q, reference.b.q_stderr),
      reference.b.q != 0.0 ? 100.0 * (standard.b.q / reference.b.q - 1.0) : 0.0,
      standard.b.free_energy - reference.b.free_energy,
      z(standard.b.free_energy, standard.b.free_energy_stderr, reference.b.free_energy,
        reference.b.free_energy_stderr),
      standard.b.C(last, last) - reference.b.C(last, last),
      z(standard.b.C(last, last), standard.b.C_stderr(last, last), reference.b.C(last, last),
        reference.b.C_stderr(last, last)));
}

}  // namespace
}  // namespace kernelsweep

int main(int argc, char** argv) {
  kernelsweep::keep_freed_memory_for_reuse();  // as the kernelsweep executable does
  using namespace kernelsweep;
  const std::string which = argc > 1 ? argv[1] : "all";
  bool with_reference = true;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--no-reference") == 0) with_reference = false;
  if (which == "fig2" || which == "all") bench(fig2_point(), with_reference);
  if (which == "t4" || which == "all") bench(endpoint_point(4), with_reference);
  if (which == "t8") bench(endpoint_point(8), with_reference);
  return 0;
}
