#pragma once
// Helpers for tests that drive the kernelsweep binary: a scratch directory, running a command
// line through the shell, and reading the phase-diagram file back.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kernelsweep::testing {

inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("kernelsweep-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `command` in `dir` with stdout+stderr into dir/out.log; returns the exit code.
inline int shell(const std::filesystem::path& dir, const std::string& command) {
  const std::string full = "cd '" + dir.string() + "' && (" + command + ") > out.log 2>&1";
  const int status = std::system(full.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string binary() { return KERNELSWEEP_BINARY; }

// Starts `argv` in `dir` in the background, stdout+stderr appended to dir/<log>; returns its pid.
inline pid_t spawn_in(const std::filesystem::path& dir, const std::vector<std::string>& argv,
                      const std::string& log = "run.log") {
  std::fflush(stdout);  // or the child would print our buffered lines again
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    const std::string path = (dir / log).string();
    if (!freopen(path.c_str(), "a", stdout) || !freopen(path.c_str(), "a", stderr)) _exit(127);
    std::vector<char*> raw;
    for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    execvp(raw[0], raw.data());
    _exit(127);
  }
  return pid;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Cheap linear theory points: 2 architectures x `lams` values of lambda.
inline std::string theory_sweep(int lams, int seed = 5) {
  return "name: t\nseed: " + std::to_string(seed) +
         "\nbase: {model: {T: 4}, task: {P: 4, D: 4}}\naxes:\n"
         "  - {key: model.architecture, values: [rnn, dnn]}\n"
         "  - {key: task.lam, linspace: {start: 0.2, stop: 2.0, num: " + std::to_string(lams) + "}}\n";
}

}  // namespace kernelsweep::testing
