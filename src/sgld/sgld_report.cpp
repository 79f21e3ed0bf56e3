// The text form of an SGLD summary for `kernelsweep solve` (the JSON form is in src/cli).
#include <cmath>
#include <iomanip>
#include <sstream>

#include "sgld/sgld_runner.hpp"

namespace kernelsweep {

std::string SgldSummary::report() const {
  std::ostringstream out;
  out << std::setprecision(6);
  out << "SGLD: " << to_string(status) << ", " << replicas << " replica(s)";
  if (failed_replicas > 0) out << " (" << failed_replicas << " failed)";
  out << ", " << steps_per_second << " steps/s\n";
  if (!message.empty()) out << "  " << message << "\n";
  if (replicas == 0) return out.str();
  out << "  q = " << q_mean << " +- " << q_stderr << ", <|q|> = " << abs_q_mean << " +- "
      << abs_q_stderr << "\n";
  out << "  diagnostics: split-R-hat |q| " << rhat_abs_q << ", energy " << rhat_energy
      << ", kernel (max) " << rhat_kernel << "; ESS(|q|) total " << ess_abs_q_total << "\n";
  out << "  per replica: eta " << eta.transpose() << "\n               curvature "
      << curvature.transpose() << "\n               tau(|q|) [steps] " << tau_abs_q.transpose()
      << "\n               ESS(|q|) " << ess_abs_q.transpose() << ", ESS(E) "
      << ess_energy.transpose() << "\n";
  if (sign_aligned)
    out << "  sign-aligned to q > 0; fraction of replicas with q > 0: " << q_sign_fraction << "\n";
  if (!std::isnan(check_abs_q_mean))
    out << "  eta/2 check: <|q|> = " << check_abs_q_mean << " +- " << check_abs_q_stderr << "\n";
  for (std::size_t r = 0; r < top_eigenvalues.size(); ++r)
    if (top_eigenvalues[r].size() > 0)
      out << "  replica " << r
          << " top eigenvalues (first W): " << top_eigenvalues[r].col(0).transpose() << "\n";
  out << "  outlier eigenvalue |Re| (per W): " << outlier_eigenvalue.transpose() << ", bulk radius "
      << bulk_radius << "\n";
  out << "  generalization error: " << generalization_error << "\n";
  if (!std::isnan(cka_H)) out << "  CKA vs theory: H " << cka_H << ", C " << cka_C << "\n";
  out << "  outputs f (mu = t*P + p): " << f.transpose() << "\n";
  out << "  H (replica mean):\n" << H << "\n";
  out << "  H standard error:\n" << H_stderr << "\n";
  return out.str();
}

}  // namespace kernelsweep
