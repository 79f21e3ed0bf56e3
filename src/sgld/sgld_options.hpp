#pragma once
// Options of the SGLD replicas of a grid point (docs/theory.md section 4), the `sgld` config section.
#include <cstdint>
#include <string>

namespace kernelsweep {

enum class Precision { float64, float32 };
std::string to_string(Precision precision);

struct SgldOptions {
  bool enabled = false;
  int replicas = 4;
  long long steps = 20000;
  long long burn_in = 5000;
  int thin = 10;       // measure every thin steps
  double eta = 0.002;  // Ornstein-Uhlenbeck step size
  std::uint64_t seed = 1;
  Precision precision = Precision::float64;
  bool record_trace = false;
};

}  // namespace kernelsweep
