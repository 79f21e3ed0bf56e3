#include "sgld/chain_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kernelsweep::sgld {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

ChainMoments moments(const double* values, std::size_t count) {
  ChainMoments m;
  m.count = static_cast<long long>(count);
  if (count == 0) return m;
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) sum += values[i];
  m.mean = sum / static_cast<double>(count);
  double square = 0.0;
  for (std::size_t i = 0; i < count; ++i) square += (values[i] - m.mean) * (values[i] - m.mean);
  m.variance = square / static_cast<double>(count);
  return m;
}

double integrated_autocorrelation_time(const std::vector<double>& trace) {
  const std::size_t n = trace.size();
  if (n < 4) return kNaN;
  const ChainMoments m = moments(trace.data(), n);
  if (!(m.variance > 0.0)) return 1.0;
  // rho_k by direct sums; the loop stops at the first non-positive pair sum, a few tau in.
  const auto rho = [&](std::size_t k) {
    double sum = 0.0;
    for (std::size_t i = 0; i + k < n; ++i) sum += (trace[i] - m.mean) * (trace[i + k] - m.mean);
    return sum / (static_cast<double>(n) * m.variance);
  };
  double tau = -1.0;  // tau = -1 + 2 sum_m Gamma_m, Gamma_0 = 1 + rho_1
  double previous = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k + 1 < n; k += 2) {
    double gamma = (k == 0 ? 1.0 : rho(k)) + rho(k + 1);
    if (gamma <= 0.0) break;
    gamma = std::min(gamma, previous);
    previous = gamma;
    tau += 2.0 * gamma;
  }
  return std::max(tau, 1.0 / static_cast<double>(n));
}

double effective_sample_size(const std::vector<double>& trace) {
  return static_cast<double>(trace.size()) / integrated_autocorrelation_time(trace);
}

double potential_scale_reduction(const std::vector<ChainMoments>& chains) {
  if (chains.size() < 2) return kNaN;
  long long n = chains.front().count;
  for (const auto& c : chains) n = std::min(n, c.count);
  if (n < 2) return kNaN;
  const double nd = static_cast<double>(n), m = static_cast<double>(chains.size());
  double mean = 0.0, within = 0.0;
  for (const auto& c : chains) {
    mean += c.mean / m;
    within += c.variance * nd / (nd - 1.0) / m;  // unbiased within-chain variance
  }
  double between_over_n = 0.0;  // B / n
  for (const auto& c : chains) between_over_n += (c.mean - mean) * (c.mean - mean) / (m - 1.0);
  if (!(within > 0.0)) return between_over_n > 0.0 ? std::numeric_limits<double>::infinity() : kNaN;
  return std::sqrt(((nd - 1.0) / nd * within + between_over_n) / within);
}

double split_rhat(const std::vector<std::vector<double>>& traces) {
  std::vector<ChainMoments> halves;
  for (const auto& trace : traces) {
    const std::size_t half = trace.size() / 2;
    if (half < 2) return kNaN;
    halves.push_back(moments(trace.data(), half));
    halves.push_back(moments(trace.data() + (trace.size() - half), half));
  }
  return potential_scale_reduction(halves);
}

TraceRecorder::TraceRecorder(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 4)) {
  values_.reserve(capacity_);
}

void TraceRecorder::add(double value) {
  pending_sum_ += value;
  if (++pending_count_ < stride_) return;
  values_.push_back(pending_sum_ / static_cast<double>(stride_));
  pending_sum_ = 0.0;
  pending_count_ = 0;
  if (values_.size() < capacity_) return;
  for (std::size_t i = 0; i < values_.size() / 2; ++i)
    values_[i] = 0.5 * (values_[2 * i] + values_[2 * i + 1]);
  values_.resize(values_.size() / 2);
  stride_ *= 2;
}

}  // namespace kernelsweep::sgld
