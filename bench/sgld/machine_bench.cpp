// The two ceilings of an SGLD step on this machine (google benchmark): streaming bandwidth over the
// recurrent matrices (read, and read+write as in the update pass) and the throughput of the batched
// Philox normal generator. `kernelsweep bench sgld` reports the traffic per step to divide by them;
// bench/sgld/roofline.py does the division.
//
// The argument is the number of N x N matrices: 1 (the RNN's shared W, 32 MB in float64) or 7 (the
// DNN's T-1 = 7 layers, 235 MB: no longer cache-resident on most machines). As in the SGLD passes,
// the threads share one set of matrices and each streams its own contiguous part of it.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <map>
#include <mutex>
#include <vector>

#include "random/normal_batch.hpp"

namespace {

constexpr Eigen::Index kWidth = 2048;  // the benchmark network's W

// One shared, initialized array per (scalar type, matrix count), created on first use.
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& shared_matrices(int count) {
  static std::mutex mutex;
  static std::map<int, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>> arrays;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& array = arrays[count];
  if (array.size() == 0)
    array = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>::Constant(count * kWidth * kWidth, Scalar(1));
  return array;
}

template <typename Scalar>
auto thread_slice(benchmark::State& state, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& all) {
  const Eigen::Index part = all.size() / state.threads();
  return all.segment(part * state.thread_index(), part);
}

template <typename Scalar>
void read_bandwidth(benchmark::State& state) {
  auto slice = thread_slice(state, shared_matrices<Scalar>(static_cast<int>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(slice.sum());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(slice.size() * sizeof(Scalar)));
}

template <typename Scalar>
void read_write_bandwidth(benchmark::State& state) {
  auto slice = thread_slice(state, shared_matrices<Scalar>(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    slice *= Scalar(0.999);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 *
                          static_cast<std::int64_t>(slice.size() * sizeof(Scalar)));
}

void normal_throughput(benchmark::State& state) {
  const kernelsweep::NormalBatchGenerator generator(
      1, 0, static_cast<std::uint64_t>(state.thread_index()),
      kernelsweep::StreamPurpose::sgld_noise);
  std::vector<float> out(1 << 16);
  std::uint64_t draw = 0;
  for (auto _ : state) {
    generator.fill(out.data(), 0, out.size(), draw++, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

BENCHMARK(read_bandwidth<double>)->Arg(1)->Arg(7)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_bandwidth<float>)->Arg(1)->Arg(7)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_write_bandwidth<double>)->Arg(1)->Arg(7)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(read_write_bandwidth<float>)->Arg(1)->Arg(7)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(normal_throughput)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
