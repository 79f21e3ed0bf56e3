// kernelsweep keys [--json | --markdown]: every config key with its type, default, allowed values
// and doc (the config key table). kernelsweep fields [--json | --markdown]: every output quantity
// with its file name, JSON path, units, shape and description (the field table). The README's
// tables are these commands' --markdown output (a test keeps them equal).
#include <iostream>

#include "cli/commands.hpp"
#include "sweep/point_config.hpp"
#include "sweep/result_fields.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

struct TableOptions {
  bool json = false, markdown = false;
};

TableOptions parse_table_options(const Arguments& argv, const std::string& usage) {
  TableOptions t;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")(
      "json", po::bool_switch(&t.json), "one JSON array")("markdown", po::bool_switch(&t.markdown),
                                                          "a Markdown table (as in the README)");
  parse_command_line(argv, options, "unused", usage);
  if (t.json && t.markdown) throw po::error("give at most one of --json and --markdown");
  return t;
}

// A Markdown table cell: | would end the cell, also inside a code span.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string code(std::string_view text) {
  std::string out(1, '`');
  out.append(cell(text)).push_back('`');
  return out;
}

std::string shape_of(const Field& f) {
  if (f.kind() != FieldKind::array) return "grid";
  std::string dims;
  for (const auto d : f.dims) {
    if (!dims.empty()) dims.append(" x ");
    dims.append(d);
  }
  return "per point: " + dims;
}

std::string kind_name(FieldKind kind) {
  switch (kind) {
    case FieldKind::real:
      return "float64";
    case FieldKind::integer:
      return "int64";
    case FieldKind::category:
      return "flags";
    case FieldKind::text:
      return "string";
    case FieldKind::array:
      return "float64 array";
  }
  return "unknown";
}

}  // namespace

int run_keys(const Arguments& argv) {
  const TableOptions t =
      parse_table_options(argv, "usage: kernelsweep keys [--json | --markdown]\n");
  if (t.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& k : config_keys())
      rows.push_back({{"key", k.key},
                      {"type", to_string(k.type)},
                      {"default", k.default_text},
                      {"allowed", k.allowed},
                      {"doc", k.doc}});
    std::cout << rows.dump(1) << "\n";
  } else if (t.markdown) {
    std::cout << "| key | default | allowed | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& k : config_keys())
      std::cout << "| " << code(k.key) << " | " << cell(k.default_text) << " | " << cell(k.allowed)
                << " | " << cell(k.doc) << " |\n";
  } else {
    for (const auto& k : config_keys())
      std::cout << k.key << " (" << to_string(k.type) << ", default " << k.default_text << "; "
                << k.allowed << ")\n    " << k.doc << "\n";
  }
  return kExitOk;
}

int run_fields(const Arguments& argv) {
  const TableOptions t =
      parse_table_options(argv, "usage: kernelsweep fields [--json | --markdown]\n");
  if (t.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& f : result_fields()) {
      nlohmann::json row = {
          {"name", f.name()},
          {"json", f.json_path()},
          {"type", kind_name(f.kind())},
          {"long_name", f.long_name},
          {"units", f.units},
          {"description", f.description},
          {"dims", nlohmann::json(std::vector<std::string>(f.dims.begin(), f.dims.end()))}};
      if (f.kind() == FieldKind::category)
        row["flag_meanings"] =
            std::vector<std::string>(f.categories().begin(), f.categories().end());
      rows.push_back(std::move(row));
    }
    std::cout << rows.dump(1) << "\n";
  } else if (t.markdown) {
    std::cout << "| file variable | JSON | type | units | shape | description |\n"
                 "| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& f : result_fields())
      std::cout << "| " << code(f.name()) << " | " << code(f.json_path()) << " | "
                << kind_name(f.kind()) << " | " << (f.units.empty() ? "" : code(f.units)) << " | "
                << shape_of(f) << " | " << cell(f.description) << " |\n";
  } else {
    for (const auto& f : result_fields())
      std::cout << f.name() << " (" << f.json_path() << ", " << kind_name(f.kind()) << ", "
                << shape_of(f) << (f.units.empty() ? "" : ", units " + std::string(f.units))
                << ")\n    " << f.long_name << ": " << f.description << "\n";
  }
  return kExitOk;
}

}  // namespace kernelsweep::cli
