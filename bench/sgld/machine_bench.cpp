// The two ceilings of an SGLD step on this machine (google benchmark): streaming bandwidth over a
// W-sized array (read, and read+write as in the update pass) and the throughput of the batched
// Philox normal generator. `kernelsweep bench sgld` reports the traffic per step to divide by them.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <vector>

#include "random/normal_batch.hpp"

namespace {

constexpr Eigen::Index kWidth = 2048;  // the benchmark network's W: 32 MB in float64

template <typename Scalar>
void read_bandwidth(benchmark::State& state) {
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> W =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Constant(kWidth, kWidth, Scalar(1));
  for (auto _ : state) benchmark::DoNotOptimize(W.sum());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(W.size() * sizeof(Scalar)));
}

template <typename Scalar>
void read_write_bandwidth(benchmark::State& state) {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> W =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Constant(kWidth, kWidth, Scalar(1));
  for (auto _ : state) {
    W *= Scalar(0.999);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * static_cast<std::int64_t>(W.size() * sizeof(Scalar)));
}

void normal_throughput(benchmark::State& state) {
  const kernelsweep::NormalBatchGenerator generator(1, 0, static_cast<std::uint64_t>(state.thread_index()),
                                                    kernelsweep::StreamPurpose::sgld_noise);
  std::vector<float> out(1 << 16);
  std::uint64_t draw = 0;
  for (auto _ : state) {
    generator.fill(out.data(), 0, out.size(), draw++, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

BENCHMARK(read_bandwidth<double>)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_bandwidth<float>)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_write_bandwidth<double>)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_write_bandwidth<float>)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(normal_throughput)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
