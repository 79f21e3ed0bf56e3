// Backpropagation through time against central finite differences of L, for RNN and DNN, linear
// and erf; and the Langevin update formula applied with the gradient.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <tuple>

#include "sgld/langevin_network.hpp"

namespace kernelsweep::sgld {
namespace {

// Inputs at every step and two supervised steps, so every W, U and a block gets a gradient.
Dataset rich_dataset(int T, int P, int D, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Dataset data;
  data.T = T;
  data.P = P;
  data.D = D;
  for (int t = 0; t < T; ++t)
    data.inputs.push_back(Eigen::MatrixXd::NullaryExpr(D, P, [&] { return normal(rng); }));
  data.targets = Eigen::MatrixXd::NullaryExpr(T, P, [&] { return normal(rng); });
  data.supervised_times = {T - 2, T - 1};
  return data;
}

NetworkSpec spec(Architecture architecture, Activation activation, int N) {
  NetworkSpec network;
  network.architecture = architecture;
  network.activation = activation;
  network.T = 3;
  network.N = N;
  network.w = 1.3;
  network.u = 0.7;
  network.v = 1.1;
  network.kappa = 0.5;
  return network;
}

// Every parameter entry as a list of (block, entry) references, for perturbation.
template <typename F>
void for_each_parameter(NetworkParameters<double>& p, F&& visit) {
  for (auto& W : p.W_hat)
    for (Eigen::Index i = 0; i < W.size(); ++i) visit(W.data()[i], &W - p.W_hat.data(), 0, i);
  for (auto& U : p.U_hat)
    for (Eigen::Index i = 0; i < U.size(); ++i) visit(U.data()[i], &U - p.U_hat.data(), 1, i);
  for (auto& a : p.a_hat)
    for (Eigen::Index i = 0; i < a.size(); ++i) visit(a.data()[i], &a - p.a_hat.data(), 2, i);
}

double gradient_entry(const NetworkParameters<double>& g, std::ptrdiff_t block, int kind,
                      Eigen::Index i) {
  const auto b = static_cast<std::size_t>(block);
  if (kind == 0) return g.W_hat[b].data()[i];
  if (kind == 1) return g.U_hat[b].data()[i];
  return g.a_hat[b].data()[i];
}

class GradientTest : public ::testing::TestWithParam<std::tuple<Architecture, Activation>> {};

TEST_P(GradientTest, BackpropagationMatchesFiniteDifferences) {
  const auto [architecture, activation] = GetParam();
  const Dataset data = rich_dataset(3, 2, 3, 11);
  LangevinNetwork<double> net(spec(architecture, activation, 6), data, 3, 0, 0);
  // Move away from the prior draw's typical point a little, so erf is in its nonlinear range.
  for (auto& W : net.parameters().W_hat) W *= 1.5;
  const NetworkParameters<double> gradient = net.gradient();
  double largest = 0.0;
  for_each_parameter(net.parameters(), [&](double&, std::ptrdiff_t b, int k, Eigen::Index i) {
    largest = std::max(largest, std::abs(gradient_entry(gradient, b, k, i)));
  });
  ASSERT_GT(largest, 1.0);
  int checked = 0;
  // Central differences with step 1e-5 have truncation error ~1e-10 |L'''| and rounding error
  // ~1e-16 |L| / 1e-5; both are far below the 1e-6 * max|grad| tolerance.
  const double step = 1e-5;
  for_each_parameter(net.parameters(), [&](double& theta, std::ptrdiff_t b, int k, Eigen::Index i) {
    const double saved = theta;
    theta = saved + step;
    const double plus = net.forward();
    theta = saved - step;
    const double minus = net.forward();
    theta = saved;
    EXPECT_NEAR(gradient_entry(gradient, b, k, i), (plus - minus) / (2 * step), 1e-6 * largest)
        << "block kind " << k << " index " << b << " entry " << i;
    ++checked;
  });
  EXPECT_GT(checked, 40);
}

INSTANTIATE_TEST_SUITE_P(AllNetworks, GradientTest,
                         ::testing::Combine(::testing::Values(Architecture::rnn, Architecture::dnn),
                                            ::testing::Values(Activation::linear,
                                                              Activation::erf)));

// At N above the parallel threshold and not a multiple of the chunk sizes, sampled entries.
TEST(GradientTest, ChunkedParallelPassesMatchFiniteDifferences) {
  for (Architecture architecture : {Architecture::rnn, Architecture::dnn}) {
    const Dataset data = rich_dataset(3, 2, 3, 5);
    LangevinNetwork<double> net(spec(architecture, Activation::erf, 530), data, 4, 0, 0);
    const NetworkParameters<double> gradient = net.gradient();
    const double largest = gradient.W_hat[0].cwiseAbs().maxCoeff();
    std::mt19937 rng(1);
    for (int sample = 0; sample < 40; ++sample) {
      auto& W = net.parameters().W_hat.back();
      const Eigen::Index i = static_cast<Eigen::Index>(rng() % W.size());
      const double saved = W.data()[i], step = 1e-5;
      W.data()[i] = saved + step;
      const double plus = net.forward();
      W.data()[i] = saved - step;
      const double minus = net.forward();
      W.data()[i] = saved;
      EXPECT_NEAR(gradient.W_hat.back().data()[i], (plus - minus) / (2 * step), 1e-6 * largest);
    }
  }
}

TEST(LangevinUpdate, NoiseFreeStepIsDecayMinusDriftTimesGradient) {
  const Dataset data = rich_dataset(3, 2, 3, 2);
  for (Architecture architecture : {Architecture::rnn, Architecture::dnn}) {
    LangevinNetwork<double> net(spec(architecture, Activation::erf, 40), data, 1, 0, 0);
    const NetworkParameters<double> before = net.parameters();
    const NetworkParameters<double> gradient = net.gradient();
    net.forward();
    LangevinCoefficients<double> c;
    c.decay = 0.9;
    c.drift = 0.05;
    net.apply_update(c, 0);
    for (std::size_t k = 0; k < before.W_hat.size(); ++k)
      EXPECT_LT(
          (net.parameters().W_hat[k] - (0.9 * before.W_hat[k] - 0.05 * gradient.W_hat[k])).norm(),
          1e-12);
    for (std::size_t k = 0; k < before.U_hat.size(); ++k) {
      EXPECT_LT(
          (net.parameters().U_hat[k] - (0.9 * before.U_hat[k] - 0.05 * gradient.U_hat[k])).norm(),
          1e-12);
      EXPECT_LT(
          (net.parameters().a_hat[k] - (0.9 * before.a_hat[k] - 0.05 * gradient.a_hat[k])).norm(),
          1e-12);
    }
  }
}

TEST(LangevinUpdate, Float32FollowsFloat64) {
  const Dataset data = rich_dataset(3, 2, 3, 8);
  const NetworkSpec network = spec(Architecture::rnn, Activation::erf, 64);
  LangevinNetwork<double> exact(network, data, 1, 0, 0);
  LangevinNetwork<float> single(network, data, 1, 0, 0);
  // Same prior draw (the normals are generated in float for both), so 20 steps stay within float
  // rounding (~1e-7 per operation, amplified by the ~60 operations per entry and step) of each
  // other.
  EXPECT_EQ(exact.parameters().W_hat[0].cast<float>(), single.parameters().W_hat[0]);
  for (int s = 0; s < 20; ++s) {
    exact.forward();
    exact.step(0.01, static_cast<std::uint64_t>(s));
    single.forward();
    single.step(0.01, static_cast<std::uint64_t>(s));
  }
  const double scale = exact.parameters().W_hat[0].cwiseAbs().maxCoeff();
  EXPECT_LT((exact.parameters().W_hat[0] - single.parameters().W_hat[0].cast<double>())
                .cwiseAbs()
                .maxCoeff(),
            1e-4 * scale);
  EXPECT_NEAR(exact.forward(), single.forward(), 1e-3 * std::abs(exact.forward()));
}

TEST(LangevinUpdate, ResultsDoNotDependOnTheThreadCount) {
  const Dataset data = rich_dataset(3, 2, 3, 4);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    LangevinNetwork<double> net(spec(Architecture::rnn, Activation::erf, 600), data, 2, 5, 1);
    for (int s = 0; s < 3; ++s) {
      net.forward();
      net.step(0.01, static_cast<std::uint64_t>(s));
    }
    return net.parameters();
  };
  const int saved = omp_get_max_threads();
  const NetworkParameters<double> one = run(1), two = run(2);
  omp_set_num_threads(saved);
  EXPECT_TRUE(one.W_hat[0] == two.W_hat[0]);
  EXPECT_TRUE(one.U_hat[0] == two.U_hat[0]);
  EXPECT_TRUE(one.a_hat[0] == two.a_hat[0]);
}

}  // namespace
}  // namespace kernelsweep::sgld
