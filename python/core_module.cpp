// kernelsweep._core: the executable's subcommands, run in this process exactly as
// `kernelsweep NAME ARGS...` runs them (same code: the kernelsweep_cli library), with their
// standard output captured. The Python layer (kernelsweep/__init__.py) passes `--json` and turns
// the JSON into Python objects, so Python results are the CLI's results by construction.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.hpp"
#include "random/cpu_dispatch.hpp"
#include "sweep/point_config.hpp"

namespace py = pybind11;
using namespace kernelsweep;

namespace {

// Swaps std::cout's buffer for a string buffer for the life of the object.
class CapturedStdout {
 public:
  CapturedStdout() : previous_(std::cout.rdbuf(buffer_.rdbuf())) {}
  ~CapturedStdout() {
    std::cout.flush();
    std::cout.rdbuf(previous_);
  }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* previous_;
};

// (exit code, captured stdout, error message): the error message is what the executable would
// print after "error: " (exit code 2) or "internal error: " (3).
py::tuple run_command(const std::string& name, const std::vector<std::string>& args) {
  static const std::map<std::string, int (*)(const cli::Arguments&)> commands = {
      {"solve", cli::run_solve},   {"critical", cli::run_critical}, {"run", cli::run_run},
      {"status", cli::run_status}, {"export", cli::run_export},     {"plan", cli::run_plan},
  };
  const auto command = commands.find(name);
  if (command == commands.end())
    throw py::value_error("unknown kernelsweep command '" + name + "'");
  for (const auto& a : args)
    if (a == "--help" || a == "-h") throw py::value_error("--help is for the executable");
  int code = cli::kExitOk;
  std::string error, output;
  {
    py::gil_scoped_release release;  // long computations; other Python threads may run
    CapturedStdout captured;
    try {
      code = command->second(args);
    } catch (const ConfigError& e) {
      code = cli::kExitBadInput;
      error = e.what();
    } catch (const boost::program_options::error& e) {
      code = cli::kExitBadInput;
      error = e.what();
    } catch (const std::exception& e) {
      code = cli::kExitInternal;
      error = e.what();
    }
    output = captured.text();
  }
  return py::make_tuple(code, output, error);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "kernelsweep's subcommands in-process (use the functions of the kernelsweep package)";
  m.def("run_command", &run_command, py::arg("name"), py::arg("args"),
        "Runs `kernelsweep NAME ARGS...`; returns (exit code, stdout, error message).");
  m.def("kernel_isa", &kernel_isa_name, "Instruction-set variant of the SGLD kernels in use.");
}
