// The batched Philox normal generator: moments, and that any sub-range equals the same slice of
// a full draw (what makes results independent of chunking and thread count).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "random/normal_batch.hpp"

namespace kernelsweep {
namespace {

TEST(NormalBatch, MomentsOfOneMillionDraws) {
  const NormalBatchGenerator generator(7, 3, 1, StreamPurpose::sgld_noise);
  const std::size_t n = 1 << 20;
  std::vector<double> x(n);
  generator.fill(x.data(), 0, n, 5, 2);
  double m1 = 0, m2 = 0, m4 = 0;
  for (double v : x) {
    m1 += v;
    m2 += v * v;
    m4 += v * v * v * v;
  }
  m1 /= n;
  m2 /= n;
  m4 /= n;
  // Standard errors of the sample moments of N(0,1): sqrt(1/n), sqrt(2/n), sqrt(96/n) (~0.001,
  // 0.0014, 0.0096); tolerances are 5 of them.
  EXPECT_NEAR(m1, 0.0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(m2, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(m4, 3.0, 5 * std::sqrt(96.0 / n));
}

TEST(NormalBatch, SubRangesMatchTheFullDraw) {
  const NormalBatchGenerator generator(1, 0, 0, StreamPurpose::sgld_noise);
  std::vector<float> full(1000), part(123);
  generator.fill(full.data(), 0, full.size(), 9, 4);
  generator.fill(part.data(), 517, part.size(), 9, 4);
  for (std::size_t i = 0; i < part.size(); ++i) EXPECT_EQ(part[i], full[517 + i]) << i;
}

// The hand-vectorized Philox rounds against Random123's scalar Philox4x32-10, word for word, over
// counters that exercise every counter word (large draw and stream values, carries in the batch).
TEST(NormalBatch, PhiloxWordsEqualRandom123) {
  const NormalBatchGenerator generator(11, 2, 3, StreamPurpose::sgld_noise);
  for (std::uint64_t batch : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{12345678}}) {
    for (std::uint64_t draw : {std::uint64_t{0}, (std::uint64_t{7} << 32) + 99}) {
      const std::uint32_t stream = 0xFFFFFFF0u;
      std::uint32_t words[4][16];
      generator.philox_words(batch, draw, stream, words);
      for (std::uint32_t g = 0; g < 16; ++g) {
        const NormalBatchGenerator::Philox::ctr_type counter = {
            {static_cast<std::uint32_t>(batch * 16) + g, static_cast<std::uint32_t>(draw),
             static_cast<std::uint32_t>(draw >> 32), stream}};
        const auto expected = NormalBatchGenerator::Philox()(counter, generator.key());
        for (int w = 0; w < 4; ++w) EXPECT_EQ(words[w][g], expected[w]) << batch << " " << g;
      }
    }
  }
}

TEST(NormalBatch, StreamsDrawsAndReplicasDiffer) {
  const NormalBatchGenerator a(1, 0, 0, StreamPurpose::sgld_noise);
  const NormalBatchGenerator other_replica(1, 0, 1, StreamPurpose::sgld_noise);
  const std::size_t n = 4096;
  std::vector<double> base(n), x(n);
  a.fill(base.data(), 0, n, 0, 0);
  auto correlation_with_base = [&](const std::vector<double>& y) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += base[i] * y[i];
    return s / n;
  };
  // Independent N(0,1) sequences: the sample correlation has standard error 1/sqrt(n) = 0.016.
  a.fill(x.data(), 0, n, 1, 0);
  EXPECT_LT(std::abs(correlation_with_base(x)), 5 / std::sqrt(double(n)));
  a.fill(x.data(), 0, n, 0, 1);
  EXPECT_LT(std::abs(correlation_with_base(x)), 5 / std::sqrt(double(n)));
  other_replica.fill(x.data(), 0, n, 0, 0);
  EXPECT_LT(std::abs(correlation_with_base(x)), 5 / std::sqrt(double(n)));
}

}  // namespace
}  // namespace kernelsweep
