#pragma once
// A counter-based random stream (Random123 Philox4x64). A stream is named by
// (seed, point, substream, purpose): any stream can be recomputed alone, in any order, on any rank,
// which is what makes resumed and re-partitioned sweeps bit-identical.
#include <Random123/philox.h>
#include <Random123/uniform.hpp>
#include <cmath>
#include <cstdint>

namespace kernelsweep {

// What a stream is used for; part of the counter so that streams never overlap.
enum class StreamPurpose : std::uint64_t {
  teacher = 1,
  theory_monte_carlo = 2,
  sgld_initial = 3,
  sgld_noise = 4,
};

class PhiloxStream {
 public:
  using Engine = r123::Philox4x64;

  PhiloxStream(std::uint64_t seed, std::uint64_t point, std::uint64_t substream,
               StreamPurpose purpose)
      : key_{{seed, point}}, counter_{{0, substream, static_cast<std::uint64_t>(purpose), 0}} {}

  // Four fresh 64-bit words per call; the counter then advances by one block.
  Engine::ctr_type next_block() {
    Engine::ctr_type out = engine_(counter_, key_);
    ++counter_[0];
    return out;
  }

  double uniform() {  // in (0, 1]
    if (cached_uniforms_ == 0) {
      block_ = next_block();
      cached_uniforms_ = 4;
    }
    return r123::u01<double>(block_[--cached_uniforms_]);
  }

  double normal() {
    if (has_cached_normal_) {
      has_cached_normal_ = false;
      return cached_normal_;
    }
    const double u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * 3.14159265358979323846 * u2;
    cached_normal_ = radius * std::sin(angle);
    has_cached_normal_ = true;
    return radius * std::cos(angle);
  }

  // Jump to an absolute block index, e.g. to let several threads share a stream without overlap.
  void seek_block(std::uint64_t block) {
    counter_[0] = block;
    cached_uniforms_ = 0;
    has_cached_normal_ = false;
  }

 private:
  Engine engine_;
  Engine::key_type key_;
  Engine::ctr_type counter_;
  Engine::ctr_type block_{};
  int cached_uniforms_ = 0;
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
};

}  // namespace kernelsweep
