// The curvature probe behind eta: auto against closed forms: L is quadratic in the readout a, with
// Hessian (v / (kappa N)) Phi_S Phi_S^T in the standardized coordinates, whose largest eigenvalue
// is (v / kappa) lambda_max(C_SS); no data gives L = 0. And the finding that the stiffest direction
// lies in W and U, not in the readout (so an exact Gibbs step for a would not remove it).
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include "sgld/langevin_network.hpp"
#include "sgld/step_size.hpp"

namespace kernelsweep::sgld {
namespace {

using Blocks = CurvatureProbe<double>::Blocks;

struct ProbePoint {
  NetworkSpec network;
  Dataset data;
};

ProbePoint endpoint_point(double lam, bool supervised) {
  ProbePoint s;
  s.network.N = 128;  // linear RNN, T = 4, w = u = v = 1, kappa = 0.1
  TaskSpec task;
  task.lam = lam;
  if (!supervised) task.supervised.mode = Supervision::Mode::list;
  s.data = make_dataset(task, s.network.T);
  return s;
}

TEST(CurvatureProbe, ReadoutBlockIsVOverKappaTimesLargestEigenvalueOfCss) {
  const ProbePoint s = endpoint_point(1.2, true);
  LangevinNetwork<double> net(s.network, s.data, 1, 0, 0);
  net.forward();
  const auto& phi = net.activations()[static_cast<std::size_t>(s.network.T - 1)];
  const Eigen::MatrixXd C_SS = phi.transpose() * phi / s.network.N;
  const double exact =
      s.network.v / s.network.kappa *
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(C_SS).eigenvalues().maxCoeff();
  CurvatureProbe<double> probe(1, 0, 0);
  // Power iteration on a rank-P block converges geometrically (ratio of the top two eigenvalues).
  EXPECT_NEAR(probe.measure(net, 60, Blocks::readout_only) / exact, 1.0, 1e-4);
}

TEST(CurvatureProbe, NoDataHasNoCurvature) {
  const ProbePoint s = endpoint_point(1.2, false);
  LangevinNetwork<double> net(s.network, s.data, 1, 0, 0);
  CurvatureProbe<double> probe(1, 0, 0);
  EXPECT_EQ(probe.measure(net, 5), 0.0);
  EXPECT_DOUBLE_EQ(step_size_from_curvature(0.0, 0.5), 0.5);
}

TEST(CurvatureProbe, StiffestDirectionIsNotTheReadout) {
  const ProbePoint s = endpoint_point(1.2, true);
  LangevinNetwork<double> net(s.network, s.data, 1, 0, 0);
  CurvatureProbe<double> all(1, 0, 0), hidden(1, 0, 1), readout(1, 0, 2);
  const double full = all.measure(net, 40);
  const double without_a = hidden.measure(net, 40, Blocks::without_readout);
  const double only_a = readout.measure(net, 40, Blocks::readout_only);
  // A principal block's largest eigenvalue is at most the full one (Cauchy interlacing for the
  // positive part; here L is near its quadratic regime).
  EXPECT_LE(only_a, full * 1.001);
  EXPECT_LE(without_a, full * 1.001);
  // The finding (docs/sgld-validation.md): W and U alone are several times stiffer than the
  // readout, so an exact readout step would leave most of the stiffness.
  EXPECT_GT(without_a, 3.0 * only_a);
  EXPECT_GT(without_a, 0.5 * full);
}

}  // namespace
}  // namespace kernelsweep::sgld
