// kernelsweep bench sgld: steps per second of the SGLD sampler at a given size, with the traffic
// model of one step (bytes of the recurrent matrices moved, normals drawn) for a roofline estimate.
#include <omp.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "model/task.hpp"
#include "sgld/langevin_network.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

struct BenchSettings {
  std::string arch = "rnn", precision = "float64";
  int N = 2048, T = 8, P = 4;
  long long steps = 50;
  bool json = false;
};

// Per step: the forward pass reads each W once per time step it acts at; the backward pass reads
// it again, its last read fused with the Langevin update (read + write).
struct StepTraffic {
  double matrix_bytes = 0.0;
  double normals = 0.0;
};

StepTraffic step_traffic(const BenchSettings& s, double scalar_bytes) {
  const double matrix = static_cast<double>(s.N) * s.N;
  StepTraffic traffic;
  if (s.arch == "rnn") {
    traffic.matrix_bytes = (2.0 * s.T - 1.0) * matrix * scalar_bytes;  // (T-1) + (T-2) + 2
    traffic.normals = matrix;
  } else {
    traffic.matrix_bytes = 3.0 * (s.T - 1.0) * matrix * scalar_bytes;  // per layer 1 + 2
    traffic.normals = (s.T - 1.0) * matrix;
  }
  return traffic;
}

template <typename Scalar>
double measure_steps_per_second(const BenchSettings& s) {
  NetworkSpec network;
  network.architecture = s.arch == "rnn" ? Architecture::rnn : Architecture::dnn;
  network.T = s.T;
  network.N = s.N;
  TaskSpec task;
  task.P = s.P;
  task.D = s.P;
  const Dataset data = make_dataset(task, s.T);
  sgld::LangevinNetwork<Scalar> net(network, data, 1, 0, 0);
  const double eta = 0.004;
  for (int warm = 0; warm < 3; ++warm) {  // page in, warm caches
    net.forward();
    net.step(eta, static_cast<std::uint64_t>(warm));
  }
  const auto start = std::chrono::steady_clock::now();
  for (long long step = 0; step < s.steps; ++step) {
    net.forward();
    net.step(eta, static_cast<std::uint64_t>(step + 3));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(s.steps) / seconds;
}

}  // namespace

int run_bench(const Arguments& argv) {
  BenchSettings s;
  std::string what;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("what", po::value(&what), "sgld")(
      "arch", po::value(&s.arch)->default_value("rnn"), "rnn | dnn")(
      "N", po::value(&s.N)->default_value(2048), "width")("T", po::value(&s.T)->default_value(8),
                                                          "time steps / layers")(
      "P", po::value(&s.P)->default_value(4), "patterns")(
      "steps", po::value(&s.steps)->default_value(50), "timed steps (after 3 warm-up steps)")(
      "precision", po::value(&s.precision)->default_value("float64"), "float64 | float32")(
      "json", po::bool_switch(&s.json), "print one JSON object on stdout");
  parse_command_line(argv, options, "what",
                     "usage: kernelsweep bench sgld [options]   (threads: OMP_NUM_THREADS)\n");
  if (what != "sgld") throw po::error("bench needs a benchmark name: sgld");
  if (s.arch != "rnn" && s.arch != "dnn")
    throw po::error("--arch must be rnn or dnn, got " + s.arch);
  if (s.precision != "float64" && s.precision != "float32")
    throw po::error("--precision must be float64 or float32, got " + s.precision);
  if (s.N < 1 || s.T < 2 || s.P < 1 || s.steps < 1)
    throw po::error("need N >= 1, T >= 2, P >= 1, steps >= 1");

  const bool single = s.precision == "float32";
  const double steps_per_second =
      single ? measure_steps_per_second<float>(s) : measure_steps_per_second<double>(s);
  const StepTraffic traffic = step_traffic(s, single ? 4.0 : 8.0);
  nlohmann::json out = {{"benchmark", "sgld"},
                        {"arch", s.arch},
                        {"N", s.N},
                        {"T", s.T},
                        {"P", s.P},
                        {"precision", s.precision},
                        {"threads", omp_get_max_threads()},
                        {"steps", s.steps},
                        {"steps_per_second", steps_per_second},
                        {"matrix_bytes_per_step", traffic.matrix_bytes},
                        {"normals_per_step", traffic.normals},
                        {"effective_bandwidth_GBps", traffic.matrix_bytes * steps_per_second / 1e9},
                        {"normals_per_second", traffic.normals * steps_per_second}};
  if (s.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "sgld " << s.arch << " N=" << s.N << " T=" << s.T << " P=" << s.P << " "
              << s.precision << ", " << omp_get_max_threads() << " thread(s): " << steps_per_second
              << " steps/s\n"
              << "  per step: " << traffic.matrix_bytes / 1e6 << " MB of W moved, "
              << traffic.normals / 1e6 << " M normals; achieved "
              << traffic.matrix_bytes * steps_per_second / 1e9 << " GB/s and "
              << traffic.normals * steps_per_second / 1e6 << " M normals/s\n";
  }
  return kExitOk;
}

}  // namespace kernelsweep::cli
