#include "mpi/progress_reporter.hpp"

#include <unistd.h>

namespace kernelsweep {

ProgressReporter::ProgressReporter(std::size_t total, std::size_t done_before, double interval_seconds, std::FILE* out)
    : total_(total), done_before_(done_before), interval_(interval_seconds), out_(out),
      terminal_(isatty(fileno(out)) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {
  if (terminal_ && interval_ > 0.5) interval_ = 0.5;  // a live line may redraw often
}

void ProgressReporter::update(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running) {
  const auto now = std::chrono::steady_clock::now();
  if (interval_ <= 0 || std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  print(done, failed, pending, running, false);
}

void ProgressReporter::finish(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running) {
  print(done, failed, pending, running, true);
}

void ProgressReporter::print(std::size_t done, std::size_t failed, std::size_t pending, std::size_t running,
                             bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t finished_now = done + failed - done_before_;
  const double rate = elapsed > 0 ? double(finished_now) / elapsed : 0.0;
  const double eta = rate > 0 ? double(pending + running) / rate : -1.0;
  char eta_text[32] = "?";
  if (eta >= 0) std::snprintf(eta_text, sizeof eta_text, "%.0fs", eta);
  std::fprintf(out_, "%s%zu/%zu done, %zu failed, %zu pending, %zu running, %.2f points/s, ETA %s%s",
               terminal_ ? "\r\033[K" : "", done, total_, failed, pending, running, rate, eta_text,
               terminal_ && !final ? "" : "\n");
  std::fflush(out_);
}

}  // namespace kernelsweep
