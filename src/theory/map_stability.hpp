#pragma once
// Stability of a Monte-Carlo fixed point (the erf theory's states, docs/theory.md 3.2-3.3): the
// leading eigenvalues of the fixed-point map's Jacobian (map_jacobian.hpp) with standard errors,
// and a verdict. As in the linear theory (odd_sector_instability), a state is unstable when an
// eigenvalue has real part above 1; here that must hold by `sigmas` standard errors, stability
// (every leading real part below 1 by as many) likewise, and anything in between is undetermined.
// A W -> -W invariant state is examined in its two sectors (odd-lag and even-lag entries), which
// decouple there: the draws are used with their mirror images, so the decoupling is exact.
#include <Eigen/Core>
#include <complex>
#include <string>
#include <vector>

#include "theory/kernel_structure.hpp"
#include "theory/map_jacobian.hpp"

namespace kernelsweep {

struct EigenvalueEstimate {
  std::complex<double> value;
  double real_stderr = 0.0;  // first-order (delta-method) error of Re value over the batches
};

// The `count` eigenvalues of e.J with the largest real parts (largest first), each with its error:
// Re(u^T (J_b - J) v) / (u^T v) over the batch estimates J_b (v, u: right and left eigenvectors).
std::vector<EigenvalueEstimate> leading_eigenvalues(const MapJacobianEstimate& e, int count);

enum class StabilityVerdict { stable, unstable, undetermined };
std::string to_string(StabilityVerdict verdict);

// unstable: some Re value - sigmas x error > 1; stable: every Re value + sigmas x error < 1 (and
// every error finite); otherwise (or with no eigenvalue) undetermined.
StabilityVerdict stability_verdict(const std::vector<EigenvalueEstimate>& leading, double sigmas);

struct SectorSpectrum {
  std::string sector;  // "odd-lag" | "even-lag" | "full"
  int dimension = 0;   // 2 x the number of entries (C and H)
  std::vector<EigenvalueEstimate> leading;
  StabilityVerdict verdict = StabilityVerdict::undetermined;
};

struct MapStabilityOptions {
  int batches = 20;     // independent groups of draws behind the error bars
  int eigenvalues = 4;  // leading eigenvalues tested per sector
  double sigmas = 3.0;  // how far from 1 a verdict must be, in standard errors
};

struct MapStability {
  StabilityVerdict verdict = StabilityVerdict::undetermined;
  // The largest real part over all sectors, its error and its sector.
  double leading = 0.0, leading_stderr = 0.0;
  std::string sector;
  std::vector<SectorSpectrum> sectors;
  std::string message;  // one line: verdict, leading eigenvalue +- error, sector
};

// draws: M x N draws of p at (C, H) (independent columns). sign_symmetric_state: (C, H) is
// W -> -W invariant (odd-lag entries zero) and the task has the symmetry: examine both sectors.
MapStability map_stability(const KernelStructure& s, const Eigen::MatrixXd& C,
                           const Eigen::MatrixXd& H, const Eigen::MatrixXd& draws,
                           bool sign_symmetric_state, const MapStabilityOptions& options);

}  // namespace kernelsweep
