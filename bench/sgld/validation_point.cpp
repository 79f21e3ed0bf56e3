// One SGLD validation row (docs/sgld-validation.md): runs the kernel theory and the SGLD replicas
// of one linear/erf endpoint-task point and prints theory and SGLD side by side with every
// convergence diagnostic, as a markdown table row. Not a test: minutes per point.
// Usage: sgld_validation_point ARCH T N LAM STEPS BURN_IN REPLICAS ETA|auto SAMPLER CHECK_STEP
//   e.g. sgld_validation_point rnn 8 256 2.0 40000 10000 4 auto langevin 0
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sgld/sgld_runner.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/saddle_point.hpp"

using namespace kernelsweep;

int main(int argc, char** argv) {
  if (argc != 11) {
    std::fprintf(stderr, "usage: %s ARCH T N LAM STEPS BURN_IN REPLICAS ETA|auto SAMPLER CHECK\n",
                 argv[0]);
    return 2;
  }
  NetworkSpec network;
  network.architecture = std::string(argv[1]) == "dnn" ? Architecture::dnn : Architecture::rnn;
  network.T = std::atoi(argv[2]);
  network.N = std::atoi(argv[3]);
  TaskSpec task;
  task.lam = std::atof(argv[4]);
  const Dataset data = make_dataset(task, network.T);
  SgldOptions options;
  options.steps = std::atoll(argv[5]);
  options.burn_in = std::atoll(argv[6]);
  options.replicas = std::atoi(argv[7]);
  options.eta = std::string(argv[8]) == "auto" ? kAutoEta : std::atof(argv[8]);
  options.sampler = std::string(argv[9]) == "prior" ? SgldSampler::prior : SgldSampler::langevin;
  options.check_step = std::atoi(argv[10]) != 0;
  options.thin = 10;

  TheorySummary theory;
  solve_saddle_point(TheoryOptions{}, TheoryProblem{network, data}, &theory);
  std::printf("theory: %s", theory.report().c_str());
  const auto start = std::chrono::steady_clock::now();
  const SgldSummary s = run_sgld(options, network, data, 0, &theory);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s", s.report().c_str());
  const double q_theory = theory.selected >= 0 ? std::abs(theory.solution().q) : NAN;
  std::printf(
      "| %s | %d | %d | %.2f | %s | %lld | %.4g | %.3f | %.3f +- %.3f | %.3f | %.4f | %.4f | "
      "%.1f | %.3f | %.0f | %s |\n",
      argv[1], network.T, network.N, task.lam, argv[8], options.steps,
      s.eta.size() ? s.eta(0) : NAN, q_theory, s.abs_q_mean, s.abs_q_stderr, s.rhat_abs_q,
      s.rhat_kernel, s.cka_H, s.ess_abs_q_total, s.q_sign_fraction, wall,
      to_string(s.status).c_str());
  if (options.sampler == SgldSampler::prior && network.activation == Activation::linear) {
    // Prior draws vs the NNGP (N -> infinity) kernel: the finite-N deviation.
    const Eigen::MatrixXd nngp = KernelStructure(network, data).linear_prior_kernel();
    const double deviation = (s.H - nngp).cwiseAbs().maxCoeff();
    std::printf(
        "| nngp | %s | %d | %d | max abs(H - H_nngp) %.4f | max stderr %.4f | CKA %.6f | "
        "N * deviation %.2f |\n",
        argv[1], network.T, network.N, deviation, s.H_stderr.maxCoeff(),
        centered_kernel_alignment(s.H, nngp), network.N * deviation);
  }
  return 0;
}
