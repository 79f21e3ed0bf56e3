#include "theory/map_stability.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "model/deadline.hpp"

namespace kernelsweep {

std::string to_string(StabilityVerdict verdict) {
  switch (verdict) {
    case StabilityVerdict::stable:
      return "stable";
    case StabilityVerdict::unstable:
      return "unstable";
    case StabilityVerdict::undetermined:
      return "undetermined";
  }
  return "unknown";
}

namespace {

// Eigenvector of A for its eigenvalue lambda by inverse iteration, shifted off lambda by a hair so
// that the factorization stays regular (only a few eigenvectors are needed: cheaper than all).
Eigen::VectorXcd eigenvector(const Eigen::MatrixXd& J, std::complex<double> lambda) {
  const Eigen::Index n = J.rows();
  const double shift = 1e-10 * (1.0 + std::abs(lambda)) * (1.0 + J.norm());
  Eigen::MatrixXcd A = J.cast<std::complex<double>>();
  A.diagonal().array() -= lambda + shift;
  const Eigen::PartialPivLU<Eigen::MatrixXcd> lu(A);
  Eigen::VectorXcd u = Eigen::VectorXcd::Ones(n);
  for (Eigen::Index k = 0; k < n; ++k) u(k) += 0.1 * std::cos(1.0 + 0.7 * double(k));
  for (int step = 0; step < 3; ++step) {
    u = lu.solve(u);
    u /= u.norm();
  }
  return u;
}

}  // namespace

std::vector<EigenvalueEstimate> leading_eigenvalues(const MapJacobianEstimate& e, int count) {
  std::vector<EigenvalueEstimate> out;
  if (!e.ok || e.J.size() == 0) return out;
  const Eigen::EigenSolver<Eigen::MatrixXd> solver(e.J, false);
  if (solver.info() != Eigen::Success) return out;
  const Eigen::VectorXcd lambda = solver.eigenvalues();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(lambda.size()));
  std::iota(order.begin(), order.end(), Eigen::Index(0));
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return lambda(a).real() > lambda(b).real(); });
  const int B = static_cast<int>(e.batch_estimates.size());
  for (int k = 0; k < std::min<int>(count, int(order.size())); ++k) {
    const Eigen::Index i = order[static_cast<std::size_t>(k)];
    const Eigen::VectorXcd v = eigenvector(e.J, lambda(i));
    const Eigen::VectorXcd u = eigenvector(e.J.transpose(), lambda(i));  // u^T J = lambda u^T
    const std::complex<double> norm = u.transpose() * v;
    double var = 0.0;
    for (const auto& Jb : e.batch_estimates) {
      const std::complex<double> d =
          (u.transpose() * ((Jb - e.J).cast<std::complex<double>>() * v))(0) / norm;
      var += d.real() * d.real();
    }
    out.push_back({lambda(i), std::sqrt(var / (double(B) * (B - 1.0)))});
  }
  return out;
}

StabilityVerdict stability_verdict(const std::vector<EigenvalueEstimate>& leading, double sigmas) {
  if (leading.empty()) return StabilityVerdict::undetermined;
  bool all_below = true;
  for (const auto& l : leading) {
    if (!std::isfinite(l.real_stderr)) return StabilityVerdict::undetermined;
    if (l.value.real() - sigmas * l.real_stderr > 1.0) return StabilityVerdict::unstable;
    all_below = all_below && l.value.real() + sigmas * l.real_stderr < 1.0;
  }
  return all_below ? StabilityVerdict::stable : StabilityVerdict::undetermined;
}

MapStability map_stability(const KernelStructure& s, const Eigen::MatrixXd& C,
                           const Eigen::MatrixXd& H, const Eigen::MatrixXd& draws,
                           bool sign_symmetric_state, const MapStabilityOptions& options) {
  MapStability out;
  std::vector<std::pair<std::string, EntryList>> sectors;
  if (sign_symmetric_state) {
    EntryList odd;
    for (const auto& ij : entries_where(s, true))
      if (s.is_odd_lag(ij.first, ij.second)) odd.push_back(ij);
    sectors = {{"odd-lag", odd}, {"even-lag", entries_where(s, false)}};
  } else {
    sectors = {{"full", entries_where(s, true)}};
  }
  std::ostringstream failures;
  for (const auto& [name, entries] : sectors) {
    check_deadline();
    if (entries.empty()) continue;
    SectorSpectrum sector{
        name, 2 * static_cast<int>(entries.size()), {}, StabilityVerdict::undetermined};
    const MapJacobianEstimate e =
        estimate_map_jacobian(s, C, H, draws, entries, options.batches, name == "odd-lag");
    if (!e.ok) failures << "; " << name << " sector: " << e.failure;
    sector.leading = leading_eigenvalues(e, options.eigenvalues);
    sector.verdict = stability_verdict(sector.leading, options.sigmas);
    out.sectors.push_back(std::move(sector));
  }

  // The eigenvalue that decides: the one proving instability most clearly, otherwise the one
  // closest to proving it (largest real part + sigmas x error).
  bool any_unstable = false, all_stable = !out.sectors.empty();
  for (const auto& sector : out.sectors) {
    any_unstable = any_unstable || sector.verdict == StabilityVerdict::unstable;
    all_stable = all_stable && sector.verdict == StabilityVerdict::stable;
  }
  out.verdict = any_unstable ? StabilityVerdict::unstable
                : all_stable ? StabilityVerdict::stable
                             : StabilityVerdict::undetermined;
  const double sign = any_unstable ? -1.0 : 1.0;
  double best = -std::numeric_limits<double>::infinity();
  for (const auto& sector : out.sectors)
    for (const auto& l : sector.leading) {
      const double score = l.value.real() + sign * options.sigmas * l.real_stderr;
      if (score > best) {
        best = score;
        out.leading = l.value.real();
        out.leading_stderr = l.real_stderr;
        out.sector = sector.sector;
      }
    }
  std::ostringstream msg;
  if (out.sector.empty()) {
    msg << "stability undetermined: no eigenvalue of the fixed-point map's Jacobian"
        << failures.str();
  } else {
    msg << "leading eigenvalue of the fixed-point map's Jacobian " << out.leading << " +- "
        << out.leading_stderr << " (" << out.sector << " sector)";
    if (out.verdict == StabilityVerdict::unstable)
      msg << ": above 1 by more than " << options.sigmas
          << " errors, the state is unstable (a saddle, not a minimum of F)";
    else if (out.verdict == StabilityVerdict::stable)
      msg << ": every leading eigenvalue below 1 by more than " << options.sigmas << " errors";
    else
      msg << ": stability undetermined (within " << options.sigmas << " errors of 1)"
          << failures.str();
  }
  out.message = msg.str();
  return out;
}

}  // namespace kernelsweep
