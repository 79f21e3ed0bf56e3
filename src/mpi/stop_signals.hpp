#pragma once
// SIGINT / SIGTERM / SIGUSR1 on any rank ask the sweep to stop (SLURM sends SIGTERM or, with
// --signal, SIGUSR1 before the time limit). The handler only records the signal; the scheduler
// polls it between messages.
namespace kernelsweep {

void install_stop_signal_handlers();
bool stop_requested();
const char* stop_signal_name();  // "SIGTERM", ... or "" if none

}  // namespace kernelsweep
