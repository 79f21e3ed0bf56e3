// What the subcommands share: the parsing of "CONFIG.yaml [--set key=value ...] [--json]" and of
// one positional argument with --help (see commands.hpp).
#include <filesystem>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "sweep/point_config.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

po::options_description config_options(ConfigArguments& args) {
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("config", po::value(&args.config_path),
                                                    "config file (YAML)")(
      "set", po::value(&args.overrides)->composing(), "override a key: --set model.T=8")(
      "json", po::bool_switch(&args.json), "print one JSON object on stdout");
  return options;
}

po::variables_map parse_command_line(const Arguments& argv, const po::options_description& options,
                                     const std::string& positional, const std::string& usage) {
  po::positional_options_description positionals;
  positionals.add(positional.c_str(), 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argv).options(options).positional(positionals).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << usage << options;
    std::exit(kExitOk);
  }
  return vm;
}

po::variables_map parse_config_command(const Arguments& argv,
                                       const po::options_description& options,
                                       const std::string& command) {
  const po::variables_map vm = parse_command_line(
      argv, options, "config", "usage: kernelsweep " + command + " CONFIG.yaml [options]\n");
  if (!vm.count("config")) throw po::error(command + " needs a config file (YAML)");
  require_regular_input(vm["config"].as<std::string>());
  return vm;
}

void require_regular_input(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path + ": is a directory, not a YAML file");
}

}  // namespace kernelsweep::cli
