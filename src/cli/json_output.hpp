#pragma once
// JSON of `critical --json` (point results have theirs from the field table: sweep/result_fields.hpp).
#include <nlohmann/json.hpp>

#include "theory/critical_point.hpp"

namespace kernelsweep {

nlohmann::json to_json(const CriticalPointResult& result);

}  // namespace kernelsweep
