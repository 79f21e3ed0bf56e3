#include "cli/json_output.hpp"


namespace kernelsweep {

nlohmann::json to_json(const CriticalPointResult& result) {
  nlohmann::json j;
  if (!result.found) {
    j["lambda_c"] = nullptr;
    j["message"] = result.message;
    return j;
  }
  j["lambda_c"] = result.lambda_c;
  j["bracket"] = {result.bracket_lo, result.bracket_hi};
  j["solves"] = result.solves;
  return j;
}

}  // namespace kernelsweep
