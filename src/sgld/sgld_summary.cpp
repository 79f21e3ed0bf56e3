// The summary of SGLD replicas (THEORY.md section 4): sign alignment of the broken phase, means
// and error bars from the effective sample size, and the convergence diagnostics (split-R-hat,
// ESS, the eta-halving check) that decide between done and not_converged.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "sgld/chain_diagnostics.hpp"
#include "sgld/replica_observables.hpp"
#include "sgld/sgld_runner.hpp"

namespace kernelsweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A replica's sign is determined when its mean q is this many standard errors from 0.
constexpr double kSignSigmas = 3.0;
// The eta-halving check fails when <|q|> at eta and eta/2 differ by more standard errors.
constexpr double kHalvingSigmas = 3.0;
// Kernel entries whose within-chain variance is below this fraction of the largest carry no
// information for R-hat (e.g. entries fixed by the inputs).
constexpr double kNegligibleVariance = 1e-12;

std::vector<double> absolute(const std::vector<double>& x) {
  std::vector<double> out(x.size());
  std::transform(x.begin(), x.end(), out.begin(), [](double v) { return std::abs(v); });
  return out;
}

// Standard error of a trace's mean from its own effective sample size.
double standard_error(const std::vector<double>& trace) {
  if (trace.size() < 4) return kNaN;
  const sgld::ChainMoments m = sgld::moments(trace.data(), trace.size());
  return std::sqrt(m.variance / sgld::effective_sample_size(trace));
}

// Mean over replicas of a scalar and sqrt(sum se_r^2) / R.
struct Estimate {
  double mean = 0.0, stderr_ = 0.0;
};
Estimate combine(const std::vector<double>& means, const std::vector<double>& errors) {
  Estimate e;
  const double R = static_cast<double>(means.size());
  double variance = 0.0;
  for (std::size_t r = 0; r < means.size(); ++r) {
    e.mean += means[r] / R;
    variance += errors[r] * errors[r];
  }
  e.stderr_ = std::sqrt(variance) / R;
  return e;
}

// Standard error of the mean of R values from their spread: sd / sqrt(R).
double replica_spread(const std::vector<double>& values) {
  const sgld::ChainMoments m = sgld::moments(values.data(), values.size());
  const double R = static_cast<double>(values.size());
  return std::sqrt(m.variance * R / (R - 1.0) / R);
}

Estimate abs_q_estimate(const std::vector<const SgldReplicaResult*>& replicas) {
  std::vector<double> means, errors;
  for (const auto* r : replicas) {
    means.push_back(r->abs_q);
    errors.push_back(standard_error(absolute(r->q_trace)));
  }
  return combine(means, errors);
}

// max over entries i <= j of the split-R-hat from the half-chain moments of every replica.
double kernel_rhat(const std::vector<std::array<sgld::KernelMoments, 2>>& halves) {
  if (halves.empty() || halves.front()[0].mean.size() == 0) return kNaN;
  const Eigen::Index M = halves.front()[0].mean.rows();
  double largest_variance = 0.0;
  for (const auto& h : halves)
    for (const auto& piece : h)
      largest_variance = std::max(largest_variance, piece.variance.maxCoeff());
  double worst = kNaN;
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index j = i; j < M; ++j) {
      std::vector<sgld::ChainMoments> chains;
      double within = 0.0;
      for (const auto& h : halves)
        for (const auto& piece : h) {
          chains.push_back({piece.mean(i, j), piece.variance(i, j), piece.count});
          within = std::max(within, piece.variance(i, j));
        }
      if (within <= kNegligibleVariance * largest_variance) continue;
      const double rhat = sgld::potential_scale_reduction(chains);
      if (std::isnan(worst) || rhat > worst) worst = rhat;
    }
  return worst;
}

struct Diagnostics {
  std::vector<std::string> failures;
  void check(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
};

std::string format(double x) {
  std::ostringstream out;
  out.precision(4);
  out << x;
  return out.str();
}

// The convergence checks; appends every failing one to diagnostics.
void check_convergence(const SgldSummary& s, const SgldOptions& options, Diagnostics* d) {
  const auto rhat_ok = [&](double rhat) { return !(rhat > options.max_rhat); };  // NaN passes
  d->check(rhat_ok(s.rhat_abs_q),
           "split-R-hat of |q| = " + format(s.rhat_abs_q) + " > " + format(options.max_rhat));
  d->check(rhat_ok(s.rhat_energy), "split-R-hat of the energy = " + format(s.rhat_energy) + " > " +
                                       format(options.max_rhat));
  d->check(rhat_ok(s.rhat_kernel), "split-R-hat of a kernel entry = " + format(s.rhat_kernel) +
                                       " > " + format(options.max_rhat));
  d->check(s.ess_abs_q_total >= options.min_ess,
           "effective sample size of |q| = " + format(s.ess_abs_q_total) + " < " +
               format(options.min_ess) + " (run longer)");
}

}  // namespace

SgldSummary summarize_sgld(const std::vector<SgldReplicaResult>& replicas, const Dataset& data,
                           const TheorySummary* theory, const SgldOptions& options) {
  SgldSummary summary;
  summary.cka_H = summary.cka_C = kNaN;
  summary.check_abs_q_mean = summary.check_abs_q_stderr = kNaN;
  std::vector<const SgldReplicaResult*> ordered;
  for (const auto& r : replicas) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->replica < b->replica; });
  std::vector<const SgldReplicaResult*> good, check;
  long long steps = 0;
  double seconds = 0.0;
  for (const auto* r : ordered) {
    steps += r->steps;
    seconds += r->seconds;
    if (!r->energy_trace.empty()) summary.energy_trace.push_back(r->energy_trace);
    if (r->failed) {
      ++summary.failed_replicas;
      if (summary.message.empty())
        summary.message = "replica " + std::to_string(r->replica) + ": " + r->message;
    } else {
      (r->step_check ? check : good).push_back(r);
    }
  }
  summary.steps_per_second = seconds > 0.0 ? static_cast<double>(steps) / seconds : 0.0;
  summary.replicas = static_cast<int>(good.size());
  if (good.empty()) {
    if (summary.message.empty()) summary.message = "no replicas";
    return summary;
  }
  const int T = data.T, P = data.P;
  const double R = static_cast<double>(good.size());
  const Eigen::Index M = good.front()->H.rows();
  summary.sign_aligned = good.front()->sign_symmetric;
  const int supervised_parity = data.supervised_times.empty() ? 0 : data.supervised_times.front();

  summary.H = summary.C = Eigen::MatrixXd::Zero(M, M);
  Eigen::MatrixXd H_square = Eigen::MatrixXd::Zero(M, M);
  summary.f = Eigen::VectorXd::Zero(good.front()->f.size());
  summary.outlier_eigenvalue = Eigen::VectorXd::Zero(good.front()->outlier_eigenvalue.size());
  const auto n = static_cast<Eigen::Index>(good.size());
  summary.tau_abs_q = summary.tau_energy = summary.ess_abs_q = summary.ess_energy = summary.eta =
      summary.curvature = Eigen::VectorXd::Zero(n);
  std::vector<double> q_means, q_errors;
  std::vector<std::vector<double>> abs_q_traces, energy_traces;
  std::vector<std::array<sgld::KernelMoments, 2>> halves;
  int positive = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const SgldReplicaResult& r = *good[static_cast<std::size_t>(k)];
    const std::vector<double> abs_q = absolute(r.q_trace);
    const double stride = static_cast<double>(r.trace_stride);
    summary.tau_abs_q(k) = sgld::integrated_autocorrelation_time(abs_q) * stride;
    summary.tau_energy(k) = sgld::integrated_autocorrelation_time(r.energy_samples) * stride;
    summary.ess_abs_q(k) = sgld::effective_sample_size(abs_q);
    summary.ess_energy(k) = sgld::effective_sample_size(r.energy_samples);
    summary.eta(k) = r.eta;
    summary.curvature(k) = r.curvature;
    abs_q_traces.push_back(abs_q);
    energy_traces.push_back(r.energy_samples);
    if (r.q > 0) ++positive;
    const double q_error = standard_error(r.q_trace);
    q_means.push_back(r.q);
    q_errors.push_back(q_error);
    // Align a replica whose sign is determined to q > 0 (THEORY.md 3.2).
    const bool flip = summary.sign_aligned && r.q < -kSignSigmas * q_error;
    const Eigen::MatrixXd H = flip ? sgld::flip_odd_lags(r.H, T, P) : r.H;
    summary.H += H / R;
    H_square += H.array().square().matrix() / R;
    summary.C += (flip ? sgld::flip_odd_lags(r.C, T, P) : r.C) / R;
    summary.f += (flip ? sgld::flip_outputs(r.f, T, P, supervised_parity) : r.f) / R;
    std::array<sgld::KernelMoments, 2> h = r.H_halves;
    if (flip)
      for (auto& piece : h) piece.mean = sgld::flip_odd_lags(piece.mean, T, P);
    halves.push_back(h);
    // Each replica picks the sign of the broken phase at random (W -> -W): average |Re|.
    summary.outlier_eigenvalue += r.outlier_eigenvalue.cwiseAbs() / R;
    summary.bulk_radius += r.bulk_radius / R;
    summary.top_eigenvalues.push_back(r.top_eigenvalues);
  }
  summary.q_sign_fraction = positive / R;
  Estimate q = combine(q_means, q_errors), abs_q = abs_q_estimate(good);
  // The error bar is never smaller than the spread of the replica means (if the replicas
  // disagree more than their ESS says, R-hat flags it too, but the error bar must not hide it).
  if (good.size() >= 2) {
    std::vector<double> abs_q_means;
    for (const auto* r : good) abs_q_means.push_back(r->abs_q);
    q.stderr_ = std::max(q.stderr_, replica_spread(q_means));
    abs_q.stderr_ = std::max(abs_q.stderr_, replica_spread(abs_q_means));
  }
  summary.q_mean = q.mean;
  summary.q_stderr = q.stderr_;
  summary.abs_q_mean = abs_q.mean;
  summary.abs_q_stderr = abs_q.stderr_;
  summary.ess_abs_q_total = summary.ess_abs_q.sum();
  if (good.size() >= 2) {
    const double correction = R / (R - 1.0) / R;  // unbiased variance, then / R for the mean
    summary.H_stderr =
        ((H_square - summary.H.array().square().matrix()).cwiseMax(0.0) * correction).cwiseSqrt();
  } else {
    summary.H_stderr = Eigen::MatrixXd::Constant(M, M, kNaN);
  }
  summary.rhat_abs_q = sgld::split_rhat(abs_q_traces);
  summary.rhat_energy = sgld::split_rhat(energy_traces);
  summary.rhat_kernel = kernel_rhat(halves);
  summary.generalization_error = generalization_error(data, summary.f);
  if (theory != nullptr && theory->selected >= 0 && theory->status != Status::failed) {
    // The theory state of the sign the replicas were aligned to (q >= 0).
    const bool flip = summary.sign_aligned && theory->solution().q < 0;
    const auto align = [&](const Eigen::MatrixXd& K) {
      return flip ? sgld::flip_odd_lags(K, T, P) : K;
    };
    summary.cka_H = centered_kernel_alignment(summary.H, align(theory->solution().H));
    summary.cka_C = centered_kernel_alignment(summary.C, align(theory->solution().C));
  }

  Diagnostics diagnostics;
  check_convergence(summary, options, &diagnostics);
  if (!check.empty()) {
    const Estimate halved = abs_q_estimate(check);
    summary.check_abs_q_mean = halved.mean;
    summary.check_abs_q_stderr = halved.stderr_;
    const double combined = std::hypot(abs_q.stderr_, halved.stderr_);
    diagnostics.check(std::abs(abs_q.mean - halved.mean) <= kHalvingSigmas * combined,
                      "eta-halving check: <|q|> = " + format(abs_q.mean) + " +- " +
                          format(abs_q.stderr_) + " at eta, " + format(halved.mean) + " +- " +
                          format(halved.stderr_) + " at eta/2");
  }
  if (summary.failed_replicas > 0) {
    summary.message =
        std::to_string(summary.failed_replicas) + " replica(s) failed; " + summary.message;
  } else if (!diagnostics.failures.empty()) {
    summary.status = Status::not_converged;
    summary.message = "not converged: ";
    for (std::size_t i = 0; i < diagnostics.failures.size(); ++i)
      summary.message += (i > 0 ? "; " : "") + diagnostics.failures[i];
  } else {
    summary.status = Status::done;
  }
  return summary;
}

}  // namespace kernelsweep
