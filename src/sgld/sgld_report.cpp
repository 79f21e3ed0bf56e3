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
