// Measures the stiffest curvature of the likelihood (lambda_max of the Hessian of L) of SGLD
// replicas along a run: over all parameters and without the readout a (what would remain if a
// were sampled exactly from its Gaussian conditional), next to the readout formula
// 1 + v lambda_max(C_SS) / kappa. Decides whether the Gibbs readout step removes the stiffness.
// Usage: sgld_curvature_probe T N LAM ETA STEPS [every]
#include <Eigen/Eigenvalues>
#include <cstdio>
#include <cstdlib>

#include "sgld/langevin_network.hpp"
#include "sgld/replica_observables.hpp"
#include "sgld/step_size.hpp"

using namespace kernelsweep;

int main(int argc, char** argv) {
  if (argc < 6) return 2;
  NetworkSpec network;
  network.T = std::atoi(argv[1]);
  network.N = std::atoi(argv[2]);
  TaskSpec task;
  task.lam = std::atof(argv[3]);
  const double eta = std::atof(argv[4]);
  const long long steps = std::atoll(argv[5]);
  const long long every = argc > 6 ? std::atoll(argv[6]) : steps / 10;
  const Dataset data = make_dataset(task, network.T);
  sgld::LangevinNetwork<double> net(network, data, 1, 0, 0);
  sgld::CurvatureProbe<double> full(1, 0, 0), hidden(1, 0, 1);
  for (long long step = 0; step <= steps; ++step) {
    net.forward();
    if (step % every == 0) {
      // C_SS from the supervised step's activations.
      const int t = network.T - 1;
      const Eigen::MatrixXd phi = net.activations()[static_cast<std::size_t>(t)];
      const Eigen::MatrixXd C_SS = phi.transpose() * phi / network.N;
      const double readout =
          1 + network.v *
                  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(C_SS).eigenvalues().maxCoeff() /
                  network.kappa;
      Eigen::MatrixXd hcat(network.N, network.T * data.P);
      for (int s = 0; s < network.T; ++s)
        hcat.middleCols(s * data.P, data.P) = net.preactivations()[static_cast<std::size_t>(s)];
      const double q =
          sgld::order_parameter(hcat.transpose() * hcat / network.N, network.T, data.P);
      std::printf("step %lld q %.3f readout_formula %.1f lambda_full %.1f lambda_without_a %.1f\n",
                  step, q, readout, 1 + full.measure(net, step == 0 ? 20 : 8),
                  1 + hidden.measure(net, step == 0 ? 20 : 8,
                                     sgld::CurvatureProbe<double>::Blocks::without_readout));
      std::fflush(stdout);
    }
    net.step(eta, static_cast<std::uint64_t>(step));
  }
  return 0;
}
