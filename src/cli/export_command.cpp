// kernelsweep export diagram.h5 --format csv|json [--arrays] [--out FILE]: one row per grid point
// with its coordinates and every field of the field table (CSV: columns named as the file's
// variables, theory_q; JSON: nested as `solve --json`, theory.q; --arrays adds kernels and curves).
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "io/results_session.hpp"
#include "sweep/result_fields.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// A coordinate value as JSON: integer, number or text, as the file stores it.
nlohmann::json coordinate_json(const std::string& text) {
  std::int64_t i = 0;
  const auto end = text.data() + text.size();
  if (auto r = std::from_chars(text.data(), end, i); r.ec == std::errc() && r.ptr == end) return i;
  double x = 0;
  if (auto r = std::from_chars(text.data(), end, x); r.ec == std::errc() && r.ptr == end) return x;
  return text;
}

std::string csv_cell(const Field& f, const PointResult* r) {
  if (r == nullptr || !part_present(f, *r)) return "";
  switch (f.kind()) {
    case FieldKind::real:
      return shortest_text(number_of(f, *r));
    case FieldKind::integer: {
      const double x = number_of(f, *r);
      return x < 0 ? "" : std::to_string(static_cast<std::int64_t>(x));
    }
    case FieldKind::category: {
      const double x = number_of(f, *r);
      return x < 0 ? "" : std::string(f.categories()[static_cast<std::size_t>(x)]);
    }
    case FieldKind::text:
      return csv_field(text_of(f, *r));
    case FieldKind::array:
      break;
  }
  return "";
}

}  // namespace

int run_export(const Arguments& argv) {
  std::string path, format, out_path;
  bool arrays = false;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")(
      "file", po::value(&path), "results file (HDF5)")("format", po::value(&format), "csv or json")(
      "out,o", po::value(&out_path), "output file (default stdout)")(
      "arrays", po::bool_switch(&arrays),
      "json: also the per-point arrays (kernels H, C, f, curves, traces)");
  parse_command_line(
      argv, options, "file",
      "usage: kernelsweep export diagram.h5 --format csv|json [--arrays] [--out FILE]\n");
  if (path.empty()) throw po::error("export needs a results file");
  if (format != "csv" && format != "json") throw po::error("--format must be csv or json");
  if (arrays && format != "json")
    throw po::error("--arrays needs --format json (CSV holds the grid variables)");
  const DiagramSnapshot s = read_snapshot(path, arrays);
  if (s.sweep_yaml.empty()) {
    std::cerr << "error: " << path << ": "
              << (s.file_error.empty() ? "no sweep found" : s.file_error) << "\n";
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
  std::vector<const Field*> columns;
  for (const auto& f : result_fields())
    if (f.kind() != FieldKind::array) columns.push_back(&f);
  if (format == "csv") {
    out << "point";
    for (const auto& axis : grid.spec().axes) out << "," << axis.name;
    for (const Field* f : columns) out << "," << f->name();
    out << "\n";
  }
  nlohmann::json rows = nlohmann::json::array();
  for (std::uint64_t p = 0; p < grid.size(); ++p) {
    const auto index = grid.coordinates(p);
    const auto found = s.results.find(p);
    PointResult pending;
    pending.point = p;
    pending.status = Status::pending;
    pending.rank = -1;
    pending.wall_time = NAN;
    const PointResult& r = found == s.results.end() ? pending : found->second;
    nlohmann::json row = {{"point", p}};
    std::string line = std::to_string(p);
    for (const auto& d : grid.dimensions())
      for (const int a : d.axes) {
        const auto& axis = grid.spec().axes[static_cast<std::size_t>(a)];
        const std::string value =
            axis.values[index[static_cast<std::size_t>(&d - grid.dimensions().data())]].Scalar();
        row[axis.name] = coordinate_json(value);
        line.append(",").append(csv_field(value));
      }
    if (format == "csv") {
      for (const Field* f : columns) line.append(",").append(csv_cell(*f, &r));
      out << line << "\n";
    } else {
      row.update(to_json(r, JsonOptions{.arrays = arrays}));
      rows.push_back(std::move(row));
    }
  }
  if (format == "json")
    out << nlohmann::json{{"sweep", grid.spec().name},
                          {"sweep_hash", s.sweep_hash},
                          {"points", rows}}
               .dump(1)
        << "\n";
  return kExitOk;
}

}  // namespace kernelsweep::cli
