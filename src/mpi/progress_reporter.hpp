#pragma once
// Progress of a sweep on rank 0: done / failed / pending, points per second, ETA. On a terminal a
// single line redrawn in place; otherwise (SLURM logs) a plain line every `interval` seconds.
#include <chrono>
#include <cstddef>
#include <cstdio>

namespace kernelsweep {

class ProgressReporter {
 public:
  ProgressReporter(std::size_t total, std::size_t done_before, double interval_seconds, std::FILE* out);
  void update(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running);
  void finish(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running);

 private:
  void print(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running, bool final);
  std::size_t total_, done_before_;
  double interval_;
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace kernelsweep
