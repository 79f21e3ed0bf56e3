#include "io/phase_diagram_store.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace kernelsweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kFlagMeanings = "pending done failed not_converged";

std::string point_group(std::uint64_t point) { return "points/" + std::to_string(point); }

bool parse_double(const std::string& text, double* x) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), *x);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// A coordinate dataset: int64 if every value is an integer, float64 if numeric, strings otherwise.
void write_coordinate(const h5::File& file, const std::string& name, const SweepAxis& axis) {
  std::vector<double> numbers;
  bool numeric = true, integral = true;
  for (const auto& v : axis.values) {
    double x = 0;
    numeric = numeric && parse_double(v.Scalar(), &x);
    integral = integral && numeric && x == std::floor(x) && v.Scalar().find_first_of(".eE") == std::string::npos;
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
}

}  // namespace

PhaseDiagramStore PhaseDiagramStore::create(const std::string& path, const SweepGrid& grid,
                                            const std::map<std::string, std::string>& provenance) {
  PhaseDiagramStore store(h5::File::create(path));
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
  const auto data_variable = [&](const std::string& name, h5::ElementType type, double fill,
                                 const std::string& long_name) {
    h5::create_dataset(f, name, type, shape, fill);
    for (std::size_t i = 0; i < dimension_names.size(); ++i)
      h5::attach_dimension_scale(f, name, dimension_names[i], static_cast<unsigned>(i));
    h5::set_attribute(f, name, "long_name", long_name);
    if (!coordinates.empty()) h5::set_attribute(f, name, "coordinates", coordinates);
  };
  data_variable("status", h5::ElementType::int8, 0, "point status");
  h5::set_attribute_int8s(f, "status", "flag_values", {0, 1, 2, 3});
  h5::set_attribute(f, "status", "flag_meanings", kFlagMeanings);
  for (const auto& name : scalar_result_names()) data_variable(name, h5::ElementType::float64, kNaN, name);
  data_variable("wall_time", h5::ElementType::float64, kNaN, "seconds of computation for the point");
  data_variable("rank", h5::ElementType::int32, -1, "MPI rank that computed the point");
  h5::create_group(f, "points");
  h5::set_attribute(f, "points", "layout",
                    "points/<i>: i = flat C-order index over the dimensions; kernels are M x M with "
                    "M = T*P and row/column mu = t*P + p");
  h5::create_group(f, "runs");
  h5::create_growable_strings(f, "runs/log");
  for (const auto& [name, value] : provenance) h5::set_attribute(f, "/", name, value);
  h5::set_attribute(f, "/", "Conventions", "CF-1.8");
  h5::set_attribute(f, "/", "sweep_name", spec.name);
  h5::set_attribute(f, "/", "sweep_yaml", spec.normalized_yaml);
  h5::set_attribute(f, "/", "sweep_hash", spec.hash);
  h5::set_attribute(f, "/", "seed", std::to_string(spec.seed));
  h5::set_attribute(f, "/", "file_format", "kernelsweep-phase-diagram 1");
  store.flush();
  return store;
}

PhaseDiagramStore PhaseDiagramStore::open(const std::string& path, bool writable) {
  PhaseDiagramStore store(h5::File::open(path, writable));
  if (!h5::has_attribute(store.file_, "/", "sweep_hash") || !h5::exists(store.file_, "status"))
    throw h5::Error(path + ": not a kernelsweep phase-diagram file (no sweep_hash / status)");
  return store;
}

std::string PhaseDiagramStore::sweep_hash() const { return h5::string_attribute(file_, "/", "sweep_hash"); }
std::string PhaseDiagramStore::sweep_yaml() const { return h5::string_attribute(file_, "/", "sweep_yaml"); }
std::vector<std::size_t> PhaseDiagramStore::shape() const { return h5::shape(file_, "status"); }

void PhaseDiagramStore::write_point(const PointResult& r) { write_points({&r, 1}); }

void PhaseDiagramStore::write_points(std::span<const PointResult> batch) {
  if (batch.empty()) return;
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
    h5::create_group(file_, group);
    for (const auto& [name, m] : r->kernels) {
      // Eigen is column-major; the file is row-major: write the transpose so [i, j] reads as m(i, j).
      const Eigen::MatrixXd row_major = m.transpose();
      std::vector<std::size_t> dims = {static_cast<std::size_t>(m.rows())};
      if (m.cols() != 1) dims.push_back(static_cast<std::size_t>(m.cols()));
      h5::write_doubles(file_, group + "/" + name, dims, row_major.data());
    }
    h5::set_attribute(file_, group, "status", to_string(r->status));
    h5::set_attribute(file_, group, "message", r->message);
    h5::set_attribute(file_, group, "wall_time", r->wall_time);
    h5::set_attribute(file_, group, "rank", static_cast<double>(r->rank));
  }
  // One write per dataset for the whole batch: the per-call overhead of HDF5 (open, select,
  // write) dominated the per-point cost when every element was written on its own.
  std::vector<double> column(points.size());
  for (const auto& name : scalar_result_names()) {
    std::size_t i = 0;
    for (const auto& [point, r] : latest) {
      const auto it = r->scalars.find(name);
      column[i++] = it == r->scalars.end() ? kNaN : it->second;
    }
    h5::write_elements(file_, name, points, column);
  }
  std::vector<std::int64_t> ints(points.size());
  std::size_t i = 0;
  for (const auto& [point, r] : latest) {
    column[i] = r->wall_time;
    ints[i++] = r->rank;
  }
  h5::write_elements(file_, "wall_time", points, column);
  h5::write_elements_int(file_, "rank", points, ints);
  // Values first, then the status: a reader (or a kill between the flushes) never sees a point
  // marked done whose values are not in the file.
  file_.flush();
  i = 0;
  for (const auto& [point, r] : latest) ints[i++] = static_cast<std::int64_t>(r->status);
  h5::write_elements_int(file_, "status", points, ints);
  file_.flush();
}

std::vector<std::int8_t> PhaseDiagramStore::statuses() const {
  const auto raw = h5::read_ints(file_, "status");
  return {raw.begin(), raw.end()};
}

std::vector<double> PhaseDiagramStore::scalar(const std::string& name) const { return h5::read_doubles(file_, name); }

PointResult PhaseDiagramStore::read_point(std::uint64_t point) const {
  PointResult r;
  r.point = point;
  r.status = static_cast<Status>(statuses().at(point));
  const std::string group = point_group(point);
  if (!h5::exists(file_, group)) return r;
  r.message = h5::string_attribute(file_, group, "message");
  r.wall_time = h5::double_attribute(file_, group, "wall_time");
  r.rank = static_cast<int>(h5::double_attribute(file_, group, "rank"));
  for (const auto& name : h5::list_group(file_, group)) {
    const auto dims = h5::shape(file_, group + "/" + name);
    const auto data = h5::read_doubles(file_, group + "/" + name);
    const Eigen::Index rows = static_cast<Eigen::Index>(dims.at(0));
    const Eigen::Index cols = dims.size() > 1 ? static_cast<Eigen::Index>(dims[1]) : 1;
    r.kernels[name] = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        data.data(), rows, cols);
  }
  for (const auto& name : scalar_result_names()) r.scalars[name] = scalar(name).at(point);
  return r;
}

void PhaseDiagramStore::append_run_row(const std::string& json_row) {
  h5::append_string(file_, "runs/log", json_row);
  file_.flush();
}

std::vector<std::string> PhaseDiagramStore::run_rows() const { return h5::read_strings(file_, "runs/log"); }

void PhaseDiagramStore::set_attribute(const std::string& name, const std::string& value) {
  h5::set_attribute(file_, "/", name, value);
}

std::string PhaseDiagramStore::attribute(const std::string& name) const {
  return h5::string_attribute(file_, "/", name);
}

}  // namespace kernelsweep
