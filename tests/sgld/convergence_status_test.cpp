// The status rules of the SGLD summary, on replicas whose traces are AR(1) processes with chosen
// means (so the right answer is known): mixed chains are done; a replica in another state, too
// few effective samples, or a disagreeing eta/2 run each give not_converged naming the failing
// diagnostic.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sgld/sgld_runner.hpp"

namespace kernelsweep {
namespace {

// T = 2, P = 1: q is H(1, 0). The trace of q is an AR(1) around q_mean (rho = 0.5, tau = 3,
// unit variance); H, C and the half moments follow from the same samples.
SgldReplicaResult fake_replica(int replica, double q_mean, std::size_t n, bool step_check) {
  std::mt19937_64 engine(1000 + static_cast<std::uint64_t>(replica));
  std::normal_distribution<double> normal;
  SgldReplicaResult r;
  r.replica = replica;
  r.step_check = step_check;
  r.eta = step_check ? 0.001 : 0.002;
  double state = normal(engine);
  std::vector<double> q(n), energy(n);
  for (std::size_t k = 0; k < n; ++k) {
    q[k] = q_mean + state;
    energy[k] = 100.0 + normal(engine);
    state = 0.5 * state + std::sqrt(0.75) * normal(engine);
  }
  r.q_trace = q;
  r.energy_samples = energy;
  r.trace_stride = 10;
  double sum = 0.0, abs_sum = 0.0;
  for (double x : q) {
    sum += x;
    abs_sum += std::abs(x);
  }
  r.q = sum / static_cast<double>(n);
  r.abs_q = abs_sum / static_cast<double>(n);
  // Dynamic-size matrices (GCC 12 mis-warns about AVX-512 loads of fixed 2x2 ones).
  const auto kernel = [](double off_diagonal, double diagonal_1, double diagonal_2) {
    Eigen::MatrixXd K(2, 2);
    K << diagonal_1, off_diagonal, off_diagonal, diagonal_2;
    return K;
  };
  r.H = kernel(r.q, 1.0, 2.0);
  r.C = r.H;
  r.f = Eigen::VectorXd::LinSpaced(2, 0.0, 1.0);
  for (int h = 0; h < 2; ++h) {
    const std::size_t begin = h * n / 2, end = (h + 1) * n / 2;
    double mean = 0.0, square = 0.0;
    for (std::size_t k = begin; k < end; ++k) mean += q[k] / static_cast<double>(end - begin);
    for (std::size_t k = begin; k < end; ++k)
      square += (q[k] - mean) * (q[k] - mean) / static_cast<double>(end - begin);
    r.H_halves[h].mean = kernel(mean, 1.0, 2.0);
    r.H_halves[h].variance = kernel(square, 0.0, 0.0);
    r.H_halves[h].count = static_cast<long long>(end - begin);
  }
  r.outlier_eigenvalue = Eigen::VectorXd::Zero(1);
  return r;
}

Dataset tiny_task() {
  TaskSpec task;
  task.P = 1;
  task.D = 1;
  return make_dataset(task, 2);
}

TEST(SgldConvergenceStatus, MixedReplicasAreDone) {
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < 4; ++r) replicas.push_back(fake_replica(r, 5.0, 2000, false));
  const SgldSummary s = summarize_sgld(replicas, tiny_task(), nullptr, SgldOptions{});
  EXPECT_EQ(s.status, Status::done) << s.message;
  EXPECT_LT(s.rhat_abs_q, 1.05);
  // tau = 3 samples = 30 steps; ESS ~ 2000 / 3 per replica.
  for (Eigen::Index r = 0; r < 4; ++r) {
    EXPECT_NEAR(s.tau_abs_q(r) / 30.0, 1.0, 0.25);
    EXPECT_NEAR(s.ess_abs_q(r) / (2000.0 / 3.0), 1.0, 0.25);
  }
  // Error bar: the larger of the ESS one, sqrt(var / ESS) / sqrt(R) = sqrt(3 / 2000) / 2 =
  // 0.0194 (known to ~10 %), and the replica spread, whose expectation is the same 0.0194 but
  // which scatters by ~40 % with R = 4: between 0.75 and 2 times 0.0194.
  EXPECT_GT(s.abs_q_stderr, 0.75 * 0.0194);
  EXPECT_LT(s.abs_q_stderr, 2.0 * 0.0194);
}

TEST(SgldConvergenceStatus, ReplicaInAnotherStateIsNotConverged) {
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < 4; ++r) replicas.push_back(fake_replica(r, r == 0 ? 2.0 : 5.0, 2000, false));
  const SgldSummary s = summarize_sgld(replicas, tiny_task(), nullptr, SgldOptions{});
  EXPECT_EQ(s.status, Status::not_converged);
  EXPECT_NE(s.message.find("split-R-hat of |q|"), std::string::npos) << s.message;
  EXPECT_NE(s.message.find("split-R-hat of a kernel entry"), std::string::npos) << s.message;
}

TEST(SgldConvergenceStatus, TooFewEffectiveSamplesIsNotConverged) {
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < 2; ++r) replicas.push_back(fake_replica(r, 5.0, 60, false));
  const SgldSummary s = summarize_sgld(replicas, tiny_task(), nullptr, SgldOptions{});
  EXPECT_EQ(s.status, Status::not_converged);  // ESS ~ 2 * 60 / 3 = 40 < 100
  EXPECT_NE(s.message.find("effective sample size"), std::string::npos) << s.message;
}

TEST(SgldConvergenceStatus, EtaHalvingCheck) {
  SgldOptions options;
  options.check_step = true;
  options.replicas = 2;
  std::vector<SgldReplicaResult> agree, disagree;
  for (int r = 0; r < 4; ++r) {
    const bool halved = r >= 2;
    agree.push_back(fake_replica(r, 5.0, 2000, halved));
    // At eta/2 <|q|> is 0.5 higher: 0.5 / (sqrt(2) * 0.027) ~ 13 standard errors.
    disagree.push_back(fake_replica(r, halved ? 5.5 : 5.0, 2000, halved));
  }
  const SgldSummary ok = summarize_sgld(agree, tiny_task(), nullptr, options);
  EXPECT_EQ(ok.status, Status::done) << ok.message;
  EXPECT_EQ(ok.replicas, 2);
  EXPECT_NEAR(ok.check_abs_q_mean, 5.0, 0.2);
  const SgldSummary bad = summarize_sgld(disagree, tiny_task(), nullptr, options);
  EXPECT_EQ(bad.status, Status::not_converged);
  EXPECT_NE(bad.message.find("eta-halving check"), std::string::npos) << bad.message;
}

}  // namespace
}  // namespace kernelsweep
