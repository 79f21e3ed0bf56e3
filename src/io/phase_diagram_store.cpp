#include "io/phase_diagram_store.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "sweep/result_fields.hpp"

namespace kernelsweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string point_group(std::uint64_t point) {
  return "points/" + std::to_string(point);
}

bool parse_double(const std::string& text, double* x) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), *x);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

bool is_grid_variable(const Field& f) {
  return f.kind() != FieldKind::array;
}

std::string joined(std::span<const std::string_view> words, const char* separator) {
  std::string out;
  for (const auto w : words) {
    if (!out.empty()) out.append(separator);
    out.append(w);
  }
  return out;
}

// A coordinate dataset: int64 if every value is an integer, float64 if numeric, strings otherwise.
void write_coordinate(const h5::File& file, const std::string& name, const SweepAxis& axis) {
  std::vector<double> numbers;
  bool numeric = true, integral = true;
  for (const auto& v : axis.values) {
    double x = 0;
    numeric = numeric && parse_double(v.Scalar(), &x);
    integral = integral && numeric && x == std::floor(x) &&
               v.Scalar().find_first_of(".eE") == std::string::npos;
    numbers.push_back(x);
  }
  if (numeric && integral) {
    std::vector<std::int64_t> ints(numbers.begin(), numbers.end());
    h5::write_int64s(file, name, ints);
  } else if (numeric) {
    h5::write_doubles(file, name, {numbers.size()}, numbers.data());
  } else {
    std::vector<std::string> text;
    for (const auto& v : axis.values) text.push_back(v.Scalar());
    h5::write_strings(file, name, text);
  }
  h5::set_attribute(file, name, "config_key", axis.key);
  h5::set_attribute(file, name, "long_name", "sweep axis " + axis.key);
  // Every model and task parameter of the theory is dimensionless.
  if (numeric) h5::set_attribute(file, name, "units", "1");
}

h5::ElementType element_type(const Field& f) {
  switch (f.kind()) {
    case FieldKind::real:
      return h5::ElementType::float64;
    case FieldKind::integer:
      return h5::ElementType::int64;
    case FieldKind::category:
      return h5::ElementType::int8;
    case FieldKind::text:
      return h5::ElementType::string;
    case FieldKind::array:
      break;
  }
  throw h5::Error("arrays are per-point datasets");
}

// The point status starts as pending (0); every other flag variable as "none" (-1).
double fill_of(const Field& f) {
  if (f.kind() == FieldKind::real) return kNaN;
  return f.name() == "status" ? 0.0 : -1.0;
}

void describe_variable(const h5::File& f, const Field& field) {
  const std::string name = field.name();
  h5::set_attribute(f, name, "long_name", std::string(field.long_name));
  if (!field.units.empty()) h5::set_attribute(f, name, "units", std::string(field.units));
  h5::set_attribute(f, name, "description", std::string(field.description));
  switch (field.kind()) {
    case FieldKind::real:
      h5::set_attribute(f, name, "_FillValue", kNaN);
      break;
    case FieldKind::integer:
      h5::set_attribute_int64(f, name, "_FillValue", -1);
      break;
    case FieldKind::category: {
      const auto names = field.categories();
      std::vector<std::int8_t> values;
      for (std::size_t i = 0; i < names.size(); ++i) values.push_back(static_cast<std::int8_t>(i));
      h5::set_attribute_int8s(f, name, "flag_values", values);
      h5::set_attribute(f, name, "flag_meanings", joined(names, " "));
      if (name != "status") h5::set_attribute_int8(f, name, "_FillValue", -1);
      break;
    }
    case FieldKind::text:
    case FieldKind::array:
      break;
  }
}

}  // namespace

PhaseDiagramStore PhaseDiagramStore::create(const std::string& path, const SweepGrid& grid,
                                            const std::map<std::string, std::string>& provenance) {
  PhaseDiagramStore store(h5::File::create(path));
  store.begin_write();
  const h5::File& f = store.file_;
  const auto& spec = grid.spec();
  std::vector<std::string> dimension_names, partner_names;
  for (const auto& d : grid.dimensions()) {
    const auto& axis = spec.axes[static_cast<std::size_t>(d.axes[0])];
    write_coordinate(f, d.name, axis);
    h5::make_dimension_scale(f, d.name, d.name);
    dimension_names.push_back(d.name);
  }
  for (std::size_t i = 0; i < grid.dimensions().size(); ++i) {
    const auto& d = grid.dimensions()[i];
    for (std::size_t k = 1; k < d.axes.size(); ++k) {
      const auto& axis = spec.axes[static_cast<std::size_t>(d.axes[k])];
      write_coordinate(f, axis.name, axis);
      h5::attach_dimension_scale(f, axis.name, d.name, 0);
      partner_names.push_back(axis.name);
    }
  }
  std::string coordinates;
  for (const auto& n : partner_names) coordinates += (coordinates.empty() ? "" : " ") + n;
  const auto shape = grid.shape();
  for (const auto& field : result_fields()) {
    if (!is_grid_variable(field)) continue;
    const std::string name = field.name();
    h5::create_dataset(f, name, element_type(field), shape, fill_of(field));
    for (std::size_t i = 0; i < dimension_names.size(); ++i)
      h5::attach_dimension_scale(f, name, dimension_names[i], static_cast<unsigned>(i));
    describe_variable(f, field);
    if (!coordinates.empty()) h5::set_attribute(f, name, "coordinates", coordinates);
  }
  h5::create_group(f, "points");
  h5::set_attribute(
      f, "points", "layout",
      "points/<i>/<array>: i = flat C-order index over the dimensions; kernels are M x M with "
      "M = T*P and row/column mu = t*P + p");
  for (const auto& field : result_fields()) {
    if (is_grid_variable(field)) continue;
    const std::string name = field.name();
    h5::set_attribute(f, "points", name + "_long_name", std::string(field.long_name));
    h5::set_attribute(f, "points", name + "_units", std::string(field.units));
    h5::set_attribute(f, "points", name + "_dims", joined(field.dims, " "));
    h5::set_attribute(f, "points", name + "_description", std::string(field.description));
  }
  h5::create_group(f, "runs");
  h5::create_growable_strings(f, "runs/log");
  h5::create_group(f, "provenance");
  h5::write_text(f, "provenance/sweep_yaml", spec.normalized_yaml);
  for (const auto& [name, value] : provenance) h5::set_attribute(f, "/", name, value);
  h5::set_attribute(f, "/", "Conventions", "CF-1.8");
  h5::set_attribute(f, "/", "title", spec.name);
  h5::set_attribute(f, "/", "sweep_name", spec.name);
  h5::set_attribute(f, "/", "sweep_hash", spec.hash);
  h5::set_attribute(f, "/", "seed", std::to_string(spec.seed));
  h5::set_attribute(f, "/", "file_format", kFileFormat);
  store.end_write();
  return store;
}

namespace {
constexpr const char* kWriteInProgress = "write_in_progress";
}  // namespace

void PhaseDiagramStore::begin_write() {
  h5::set_attribute_int8(file_, "/", kWriteInProgress, 1);
  file_.flush();
}

void PhaseDiagramStore::end_write() {
  h5::set_attribute_int8(file_, "/", kWriteInProgress, 0);
  file_.flush();
}

bool PhaseDiagramStore::last_write_completed() const {
  return h5::has_attribute(file_, "/", kWriteInProgress) &&
         h5::double_attribute(file_, "/", kWriteInProgress) == 0.0;
}

PhaseDiagramStore PhaseDiagramStore::open(const std::string& path, bool writable) {
  PhaseDiagramStore store(h5::File::open(path, writable));
  if (!h5::has_attribute(store.file_, "/", "sweep_hash") || !h5::exists(store.file_, "status"))
    throw h5::Error(path + ": not a kernelsweep phase-diagram file (no sweep_hash / status)");
  const std::string format = h5::has_attribute(store.file_, "/", "file_format")
                                 ? h5::string_attribute(store.file_, "/", "file_format")
                                 : std::string("unknown");
  if (format != kFileFormat)
    throw h5::Error(path + ": file format '" + format + "' is not '" + kFileFormat +
                    "' (written by another kernelsweep version); re-run the sweep into a new file");
  return store;
}

std::string PhaseDiagramStore::sweep_hash() const {
  return h5::string_attribute(file_, "/", "sweep_hash");
}
std::string PhaseDiagramStore::sweep_yaml() const {
  return h5::read_text(file_, "provenance/sweep_yaml");
}
std::vector<std::size_t> PhaseDiagramStore::shape() const {
  return h5::shape(file_, "status");
}

void PhaseDiagramStore::write_point(const PointResult& r) {
  write_points({&r, 1});
}

void PhaseDiagramStore::write_points(std::span<const PointResult> batch) {
  if (batch.empty()) return;
  begin_write();
  // Latest result per point (a batch never holds a point twice in practice; if it did, the
  // element writes below would race, so the last one is kept explicitly), ascending index.
  std::map<std::uint64_t, const PointResult*> latest;
  for (const auto& r : batch) latest[r.point] = &r;
  std::vector<std::uint64_t> points;
  points.reserve(latest.size());
  for (const auto& [point, r] : latest) {
    points.push_back(point);
    const std::string group = point_group(point);
    // A group left by an interrupted write (or an earlier failed attempt) is replaced.
    if (h5::exists(file_, group)) h5::remove_link(file_, group);
    bool created = false;
    for (const auto& field : result_fields()) {
      if (is_grid_variable(field)) continue;
      const Eigen::MatrixXd* m = array_of(field, *r);
      if (m == nullptr) continue;
      if (!created) h5::create_group(file_, group);
      created = true;
      // Eigen is column-major; the file is row-major: write the transpose so [i, j] reads as m(i,
      // j).
      const Eigen::MatrixXd row_major = m->transpose();
      std::vector<std::size_t> dims = {static_cast<std::size_t>(m->rows())};
      if (field.dims.size() == 2)
        dims.push_back(static_cast<std::size_t>(m->cols()));
      else
        dims[0] = static_cast<std::size_t>(m->size());
      h5::write_doubles(file_, group + "/" + field.name(), dims, row_major.data());
    }
  }
  // One write per variable for the whole batch: the per-call overhead of HDF5 (open, select,
  // write) dominated the per-point cost when every element was written on its own.
  std::vector<double> reals(points.size());
  std::vector<std::int64_t> ints(points.size());
  std::vector<std::string> texts(points.size());
  const Field* status_field = nullptr;
  for (const auto& field : result_fields()) {
    if (!is_grid_variable(field)) continue;
    if (field.name() == "status") {
      status_field = &field;
      continue;
    }
    std::size_t i = 0;
    const FieldKind kind = field.kind();
    for (const auto& [point, r] : latest) {
      if (kind == FieldKind::real)
        reals[i] = number_of(field, *r);
      else if (kind == FieldKind::text)
        texts[i] = text_of(field, *r);
      else
        ints[i] = static_cast<std::int64_t>(number_of(field, *r));
      ++i;
    }
    if (kind == FieldKind::real)
      h5::write_elements(file_, field.name(), points, reals);
    else if (kind == FieldKind::text)
      h5::write_elements_string(file_, field.name(), points, texts);
    else
      h5::write_elements_int(file_, field.name(), points, ints);
  }
  // Values first, then the status: a reader (or a kill between the flushes) never sees a point
  // marked done whose values are not in the file.
  file_.flush();
  std::size_t i = 0;
  for (const auto& [point, r] : latest)
    ints[i++] = static_cast<std::int64_t>(number_of(*status_field, *r));
  // The statuses and the cleared mark share the last flush: a kill inside it leaves each status
  // old or new (one raw write, no heap), both complete states.
  h5::write_elements_int(file_, "status", points, ints);
  end_write();
}

std::vector<std::int8_t> PhaseDiagramStore::statuses() const {
  const auto raw = h5::read_ints(file_, "status");
  return {raw.begin(), raw.end()};
}

std::vector<double> PhaseDiagramStore::scalar(const std::string& name) const {
  const Field* f = find_field(name);
  if (f != nullptr && f->kind() != FieldKind::real) {
    const auto ints = h5::read_ints(file_, name);
    return {ints.begin(), ints.end()};
  }
  return h5::read_doubles(file_, name);
}

void PhaseDiagramStore::read_arrays(std::uint64_t point, PointResult* r) const {
  const std::string group = point_group(point);
  if (!h5::exists(file_, group)) return;
  for (const auto& name : h5::list_group(file_, group)) {
    const Field* field = find_field(name);
    if (field == nullptr || is_grid_variable(*field)) continue;  // written by a later version
    const auto dims = h5::shape(file_, group + "/" + name);
    const auto data = h5::read_doubles(file_, group + "/" + name);
    const Eigen::Index rows = static_cast<Eigen::Index>(dims.at(0));
    const Eigen::Index cols = dims.size() > 1 ? static_cast<Eigen::Index>(dims[1]) : 1;
    set_array(
        *field, r,
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            data.data(), rows, cols));
  }
}

std::vector<std::uint64_t> PhaseDiagramStore::points_with_arrays() const {
  std::vector<std::uint64_t> points;
  for (const auto& name : h5::list_group(file_, "points")) {
    std::uint64_t p = 0;
    const auto r = std::from_chars(name.data(), name.data() + name.size(), p);
    if (r.ec == std::errc() && r.ptr == name.data() + name.size()) points.push_back(p);
  }
  std::sort(points.begin(), points.end());
  return points;
}

void PhaseDiagramStore::check_variables_readable() const {
  for (const auto& field : result_fields()) {
    if (!is_grid_variable(field)) continue;
    if (field.kind() == FieldKind::text)
      h5::read_strings(file_, field.name());
    else
      scalar(field.name());
  }
}

std::map<std::uint64_t, PointResult> PhaseDiagramStore::read_points(bool with_arrays) const {
  const auto status = statuses();
  std::map<std::uint64_t, PointResult> out;
  for (std::uint64_t p = 0; p < status.size(); ++p)
    if (status[p] != static_cast<std::int8_t>(Status::pending)) out[p].point = p;
  if (out.empty()) return out;
  const Field* theory_status = find_field("theory_status");
  const Field* sgld_status = find_field("sgld_status");
  const auto theory_present = h5::read_ints(file_, theory_status->name());
  const auto sgld_present = h5::read_ints(file_, sgld_status->name());
  for (auto& [p, r] : out) {
    if (theory_present[p] >= 0) r.theory.emplace();
    if (sgld_present[p] >= 0) r.sgld.emplace();
  }
  for (const auto& field : result_fields()) {
    if (!is_grid_variable(field)) continue;
    const std::string name = field.name();
    if (field.kind() == FieldKind::text) {
      const auto column = h5::read_strings(file_, name);
      for (auto& [p, r] : out)
        if (part_present(field, r)) set_text(field, &r, column[p]);
    } else {
      const auto column = scalar(name);
      for (auto& [p, r] : out)
        if (part_present(field, r)) set_number(field, &r, column[p]);
    }
  }
  if (with_arrays)
    for (auto& [p, r] : out) read_arrays(p, &r);
  return out;
}

PointResult PhaseDiagramStore::read_point(std::uint64_t point) const {
  auto all = read_points(false);
  PointResult r;
  r.point = point;
  r.status = Status::pending;
  const auto it = all.find(point);
  if (it != all.end()) r = std::move(it->second);
  read_arrays(point, &r);
  return r;
}

void PhaseDiagramStore::append_run_row(const std::string& json_row) {
  begin_write();
  h5::append_string(file_, "runs/log", json_row);
  end_write();
}

std::vector<std::string> PhaseDiagramStore::run_rows() const {
  return h5::read_strings(file_, "runs/log");
}

void PhaseDiagramStore::set_attribute(const std::string& name, const std::string& value) {
  begin_write();
  h5::set_attribute(file_, "/", name, value);
  end_write();
}

std::string PhaseDiagramStore::attribute(const std::string& name) const {
  return h5::string_attribute(file_, "/", name);
}

}  // namespace kernelsweep
