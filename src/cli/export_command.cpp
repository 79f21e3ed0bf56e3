// kernelsweep export diagram.h5 --format csv|json [--out FILE]: one row per grid point with its
// coordinates, status, scalar results, wall time, rank and message (kernels stay in the HDF5 file).
#include <cmath>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "io/results_session.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string number(double x) {
  if (std::isnan(x)) return "";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

}  // namespace

int run_export(const Arguments& argv) {
  std::string path, format, out_path;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("file", po::value(&path), "results file (HDF5)")
      ("format", po::value(&format), "csv or json")("out,o", po::value(&out_path), "output file (default stdout)");
  parse_command_line(argv, options, "file",
                     "usage: kernelsweep export diagram.h5 --format csv|json [--out FILE]\n");
  if (path.empty()) throw po::error("export needs a results file");
  if (format != "csv" && format != "json") throw po::error("--format must be csv or json");
  const DiagramSnapshot s = read_snapshot(path, false);
  if (s.sweep_yaml.empty()) {
    std::cerr << "error: " << path << ": " << (s.file_error.empty() ? "no sweep found" : s.file_error) << "\n";
    return kExitBadInput;
  }
  const SweepGrid grid(sweep_spec_from_normalized(s.sweep_yaml, path));
  std::ofstream file;
  if (!out_path.empty()) {
    refuse_to_clobber_results(out_path);  // never a results file, its journal or its lock
    file.open(out_path);
    if (!file) {
      std::cerr << "error: " << out_path << ": cannot write\n";
      return kExitBadInput;
    }
  }
  std::ostream& out = out_path.empty() ? std::cout : file;
  const auto& names = scalar_result_names();
  nlohmann::json rows = nlohmann::json::array();
  if (format == "csv") {
    out << "point";
    for (const auto& axis : grid.spec().axes) out << "," << axis.name;
    out << ",status";
    for (const auto& n : names) out << "," << n;
    out << ",wall_time,rank,message\n";
  }
  for (std::uint64_t p = 0; p < grid.size(); ++p) {
    const auto index = grid.coordinates(p);
    const auto found = s.results.find(p);
    const PointResult* r = found == s.results.end() ? nullptr : &found->second;
    const auto status = static_cast<Status>(p < s.status.size() ? s.status[p] : 0);
    nlohmann::json row = {{"point", p}, {"status", to_string(status)}};
    std::string line = std::to_string(p);
    for (const auto& d : grid.dimensions())
      for (const int a : d.axes) {
        const auto& axis = grid.spec().axes[static_cast<std::size_t>(a)];
        const std::string value = axis.values[index[&d - grid.dimensions().data()]].Scalar();
        row[axis.name] = value;
        line.append(",").append(csv_field(value));
      }
    line.append(",").append(to_string(status));
    for (const auto& n : names) {
      const double x = r && r->scalars.count(n) ? r->scalars.at(n) : NAN;
      row[n] = std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x);
      line.append(",").append(number(x));
    }
    const double wall = r ? r->wall_time : NAN;
    row["wall_time"] = std::isnan(wall) ? nlohmann::json(nullptr) : nlohmann::json(wall);
    row["rank"] = r ? nlohmann::json(r->rank) : nlohmann::json(nullptr);
    row["message"] = r ? r->message : "";
    line.append(",").append(number(wall)).append(",").append(r ? std::to_string(r->rank) : "");
    line.append(",").append(csv_field(r ? r->message : ""));
    if (format == "csv") out << line << "\n";
    else rows.push_back(row);
  }
  if (format == "json")
    out << nlohmann::json{{"sweep", grid.spec().name}, {"sweep_hash", s.sweep_hash}, {"points", rows}}.dump(1) << "\n";
  return kExitOk;
}

}  // namespace kernelsweep::cli
