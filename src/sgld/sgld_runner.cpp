// Placeholder until the SGLD sampler lands (issue: SGLD replicas); keeps the build linking.
#include "sgld/sgld_runner.hpp"

#include <stdexcept>

namespace kernelsweep {

SgldReplicaResult run_sgld_replica(const SgldOptions&, const NetworkSpec&, const Dataset&,
                                   std::uint64_t, int) {
  throw std::logic_error("SGLD is not implemented yet");
}

SgldSummary summarize_sgld(const std::vector<SgldReplicaResult>&, const Dataset&, const TheorySummary*) {
  throw std::logic_error("SGLD is not implemented yet");
}

SgldSummary run_sgld(const SgldOptions&, const NetworkSpec&, const Dataset&, std::uint64_t,
                     const TheorySummary*) {
  throw std::logic_error("SGLD is not implemented yet");
}

double centered_kernel_alignment(const Eigen::MatrixXd&, const Eigen::MatrixXd&) {
  throw std::logic_error("SGLD is not implemented yet");
}

}  // namespace kernelsweep
