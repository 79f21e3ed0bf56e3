// What the convergence diagnostics cost next to an SGLD step (the goal: < 5 %): times one
// forward + Langevin step, the measurement work (kernels; new: half moments, energy, traces) that
// runs every `thin` steps, and the curvature probe of eta: auto, amortized over a default run.
// Usage: sgld_diagnostics_cost [N T P]   (defaults 1024 8 4; threads: OMP_NUM_THREADS)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sgld/chain_diagnostics.hpp"
#include "sgld/langevin_network.hpp"
#include "sgld/replica_observables.hpp"
#include "sgld/sgld_options.hpp"
#include "sgld/step_size.hpp"

using namespace kernelsweep;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Eigen::MatrixXd concatenate(const std::vector<sgld::Matrix<double>>& per_time) {
  const Eigen::Index N = per_time.front().rows(), P = per_time.front().cols();
  Eigen::MatrixXd out(N, P * static_cast<Eigen::Index>(per_time.size()));
  for (std::size_t t = 0; t < per_time.size(); ++t)
    out.middleCols(static_cast<Eigen::Index>(t) * P, P) = per_time[t];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  NetworkSpec network;
  network.N = argc > 1 ? std::atoi(argv[1]) : 1024;
  network.T = argc > 2 ? std::atoi(argv[2]) : 8;
  TaskSpec task;
  task.P = task.D = argc > 3 ? std::atoi(argv[3]) : 4;
  const Dataset data = make_dataset(task, network.T);
  const SgldOptions defaults;
  sgld::LangevinNetwork<double> net(network, data, 1, 0, 0);
  const int repeats = 30;
  auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k) {
    net.forward();
    net.step(0.001, static_cast<std::uint64_t>(k));
  }
  const double step = seconds_since(start) / repeats;
  net.forward();
  sgld::KernelAverager averager(data.T, data.P, 2 * repeats);
  sgld::TraceRecorder q_trace, energy_trace;
  start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k)
    averager.add(concatenate(net.preactivations()), concatenate(net.activations()), net.outputs());
  const double kernels = seconds_since(start) / repeats;  // includes the new half moments
  start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k) {
    q_trace.add(averager.last_q());
    energy_trace.add(net.prior_energy());
  }
  const double traces = seconds_since(start) / repeats;  // new
  sgld::CurvatureProbe<double> probe(1, 0, 0);
  start = std::chrono::steady_clock::now();
  probe.measure(net, 12);
  for (int k = 1; k < 5; ++k) probe.measure(net, 4);
  const double curvature = seconds_since(start);  // new, once per replica
  const double per_step_new = traces / defaults.thin + curvature / defaults.steps;
  std::printf(
      "N %d T %d P %d: step %.3f ms; per measurement: kernels %.3f ms, energy + traces %.3f ms; "
      "curvature probe %.1f ms per replica\n"
      "new work per step at thin %d, %lld steps: %.4f ms = %.2f %% of a step (kernel "
      "measurement, existing: %.2f %%)\n",
      network.N, network.T, task.P, 1e3 * step, 1e3 * kernels, 1e3 * traces, 1e3 * curvature,
      defaults.thin, defaults.steps, 1e3 * per_step_new, 100 * per_step_new / step,
      100 * kernels / defaults.thin / step);
  return 0;
}
