#include "mpi/stop_signals.hpp"

#include <csignal>
#include <initializer_list>

namespace kernelsweep {

namespace {
volatile std::sig_atomic_t received_signal = 0;
extern "C" void record_signal(int signal_number) { received_signal = signal_number; }
}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGUSR1}) sigaction(s, &action, nullptr);
}

bool stop_requested() { return received_signal != 0; }

const char* stop_signal_name() {
  switch (received_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    default: return "";
  }
}

}  // namespace kernelsweep
