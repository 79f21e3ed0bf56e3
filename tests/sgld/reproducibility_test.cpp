// Counter-based streams: a replica is a pure function of (seed, point, replica); another replica
// index gives an independent chain.
#include <gtest/gtest.h>

#include <cmath>

#include "sgld/langevin_network.hpp"
#include "sgld/sgld_runner.hpp"

namespace kernelsweep {
namespace {

struct SgldSetup {
  NetworkSpec network;
  Dataset data;
  SgldOptions options;
};

SgldSetup small_erf_rnn() {
  SgldSetup s;
  s.network.activation = Activation::erf;
  s.network.N = 64;
  TaskSpec task;
  task.lam = 1.5;
  s.data = make_dataset(task, s.network.T);
  s.options.steps = 400;
  s.options.burn_in = 100;
  s.options.thin = 3;
  s.options.eta = 0.004;
  s.options.record_trace = true;
  return s;
}

TEST(SgldReproducibility, SameSeedIsBitIdentical) {
  for (Precision precision : {Precision::float64, Precision::float32}) {
    SgldSetup s = small_erf_rnn();
    s.options.precision = precision;
    const SgldReplicaResult a = run_sgld_replica(s.options, s.network, s.data, 7, 2);
    const SgldReplicaResult b = run_sgld_replica(s.options, s.network, s.data, 7, 2);
    ASSERT_FALSE(a.failed) << a.message;
    EXPECT_TRUE(a.H == b.H);
    EXPECT_TRUE(a.C == b.C);
    EXPECT_TRUE(a.f == b.f);
    EXPECT_EQ(a.q, b.q);
    EXPECT_TRUE(a.outlier_eigenvalue == b.outlier_eigenvalue);
    EXPECT_EQ(a.energy_trace, b.energy_trace);
  }
}

TEST(SgldReproducibility, OtherReplicaOrPointIsIndependent) {
  const SgldSetup s = small_erf_rnn();
  const auto W_of = [&](std::uint64_t point, std::uint64_t replica) {
    return sgld::LangevinNetwork<double>(s.network, s.data, s.options.seed, point, replica)
        .parameters()
        .W_hat[0];
  };
  const Eigen::MatrixXd base = W_of(0, 0);
  const double n = static_cast<double>(base.size());
  // Independent N(0,1) entries: sample correlation with standard error 1/sqrt(n) = 0.016.
  for (const auto& other : {W_of(0, 1), W_of(1, 0)}) {
    EXPECT_LT(std::abs((base.array() * other.array()).sum() / n), 5 / std::sqrt(n));
  }
  const SgldReplicaResult r0 = run_sgld_replica(s.options, s.network, s.data, 0, 0);
  const SgldReplicaResult r1 = run_sgld_replica(s.options, s.network, s.data, 0, 1);
  EXPECT_GT((r0.H - r1.H).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_FALSE(r0.energy_trace == r1.energy_trace);
}

TEST(SgldReproducibility, SummaryDoesNotDependOnReplicaOrder) {
  const SgldSetup s = small_erf_rnn();
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < 3; ++r)
    replicas.push_back(run_sgld_replica(s.options, s.network, s.data, 0, r));
  const SgldSummary forward = summarize_sgld(replicas, s.data, nullptr);
  std::reverse(replicas.begin(), replicas.end());
  const SgldSummary reversed = summarize_sgld(replicas, s.data, nullptr);
  EXPECT_TRUE(forward.H == reversed.H);
  EXPECT_EQ(forward.energy_trace, reversed.energy_trace);
}

// <|q|> and its standard error across replicas: |q| = 1, 2, 3 give 2 +- sqrt(1/3); the signed q
// (+1, -2, +3) has mean 2/3 and its own, larger spread.
TEST(SgldSummary, AbsoluteOrderParameterStatistics) {
  const SgldSetup s = small_erf_rnn();
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < 3; ++r) {
    SgldReplicaResult result = run_sgld_replica(s.options, s.network, s.data, 0, r);
    result.abs_q = r + 1.0;
    result.q = (r % 2 == 0 ? 1.0 : -1.0) * (r + 1.0);
    replicas.push_back(result);
  }
  const SgldSummary summary = summarize_sgld(replicas, s.data, nullptr);
  EXPECT_DOUBLE_EQ(summary.abs_q_mean, 2.0);
  EXPECT_NEAR(summary.abs_q_stderr, std::sqrt(1.0 / 3.0), 1e-12);
  EXPECT_NEAR(summary.q_mean, 2.0 / 3.0, 1e-12);
  // sample variance of (1, -2, 3) = 19/3 -> stderr sqrt(19/9)
  EXPECT_NEAR(summary.q_stderr, std::sqrt(19.0 / 9.0), 1e-12);
}

}  // namespace
}  // namespace kernelsweep
