#include "io/hdf5_handle.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cmath>
#include <cstring>

namespace kernelsweep::h5 {

namespace {

// The innermost HDF5 error descriptions (they carry errno texts such as "No space left on device").
herr_t collect(unsigned n, const H5E_error2_t* e, void* data) {
  auto* text = static_cast<std::string*>(data);
  if (n < 3 && e->desc && *e->desc) *text += std::string(text->empty() ? "" : "; ") + e->desc;
  return 0;
}

[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &detail);
  H5Eclear2(H5E_DEFAULT);
  throw Error(what + (detail.empty() ? "" : " (" + detail + ")"));
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

std::string where(const File& f, const std::string& path) { return f.path() + ": " + path; }

hid_t native(ElementType type) {
  switch (type) {
    case ElementType::float64: return H5T_NATIVE_DOUBLE;
    case ElementType::int8: return H5T_NATIVE_INT8;
    case ElementType::int32: return H5T_NATIVE_INT32;
    case ElementType::int64: return H5T_NATIVE_INT64;
    case ElementType::string: break;
  }
  throw Error("no native type for strings");
}

Handle string_type() {
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
  check_status(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

Handle open_dataset(const File& f, const std::string& path) {
  return Handle(check(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT), "cannot open dataset " + where(f, path)));
}

Handle open_object(const File& f, const std::string& path) {
  return Handle(check(H5Oopen(f.id(), path.c_str(), H5P_DEFAULT), "cannot open " + where(f, path)));
}

// Selects one element (flat C-order index) of a dataset's file space.
Handle select_element(const Handle& dataset, std::uint64_t flat, const std::string& what) {
  Handle space(check(H5Dget_space(dataset.get()), what));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<hsize_t> start(dims.size()), count(dims.size(), 1);
  for (std::size_t d = dims.size(); d-- > 0;) {
    start[d] = flat % dims[d];
    flat /= dims[d];
  }
  if (flat != 0) throw Error(what + ": point index out of range");
  check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
  return space;
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: H5Idec_ref(id_); break;
  }
  id_ = -1;
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void skip_close_at_exit() {
  H5dont_atexit();
}

namespace {

// No HDF5 file lock, for writers too: HDF5's own lock (flock LOCK_EX for as long as a writer
// has the file open) locks readers such as h5py and xarray out of a live file. One writer per
// file is ensured by the run's lock file instead (io/output_lock.hpp), and the writer flushes
// after every batch, values before statuses, so a reader sees the file as of the last batch.
Handle unlocked_access() {
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"));
  check_status(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
  return fapl;
}

}  // namespace

File File::create(const std::string& path) {
  silence_errors();
  File f;
  f.path_ = path;
  // Track creation order so netCDF readers see variables in a stable order.
  Handle fcpl(check(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate"));
  check_status(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "fcpl");
  f.handle_ =
      Handle(check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.get(), unlocked_access().get()),
                   path + ": cannot create the results file"));
  return f;
}

File File::open(const std::string& path, bool writable) {
  silence_errors();
  File f;
  f.path_ = path;
  const Handle fapl = unlocked_access();
  f.handle_ = Handle(check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()),
                           path + ": cannot open as HDF5"));
  return f;
}

void File::flush() { check_status(H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL), path_ + ": cannot flush"); }

bool exists(const File& f, const std::string& path) {
  // Checks each component, as H5Lexists requires.
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    prefix = path.substr(0, slash);
    if (!prefix.empty() && H5Lexists(f.id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

void create_group(const File& f, const std::string& path) {
  Handle g(check(H5Gcreate2(f.id(), path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create group " + where(f, path)));
}

void remove_link(const File& f, const std::string& path) {
  check_status(H5Ldelete(f.id(), path.c_str(), H5P_DEFAULT), "cannot delete " + where(f, path));
}

void create_dataset(const File& f, const std::string& path, ElementType type,
                    const std::vector<std::size_t>& shape, double fill) {
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate"));
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"));
  check_status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), "alloc time");
  check_status(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC), "fill time");
  if (type == ElementType::string) {
    const Handle t = string_type();
    Handle d(check(H5Dcreate2(f.id(), path.c_str(), t.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                   "cannot create dataset " + where(f, path)));
    return;
  }
  const hid_t t = native(type);
  std::int64_t fill_int = static_cast<std::int64_t>(std::isnan(fill) ? 0 : fill);
  std::int8_t fill8 = static_cast<std::int8_t>(fill_int);
  std::int32_t fill32 = static_cast<std::int32_t>(fill_int);
  const void* fill_ptr = type == ElementType::float64 ? static_cast<const void*>(&fill)
                         : type == ElementType::int8  ? static_cast<const void*>(&fill8)
                         : type == ElementType::int32 ? static_cast<const void*>(&fill32)
                                                      : static_cast<const void*>(&fill_int);
  check_status(H5Pset_fill_value(dcpl.get(), t, fill_ptr), "fill value");
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), t, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
}

void create_growable_strings(const File& f, const std::string& path) {
  hsize_t dims = 0, max_dims = H5S_UNLIMITED, chunk = 16;
  Handle space(check(H5Screate_simple(1, &dims, &max_dims), "H5Screate"));
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"));
  check_status(H5Pset_chunk(dcpl.get(), 1, &chunk), "chunk");
  const Handle t = string_type();
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), t.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
}

void append_string(const File& f, const std::string& path, const std::string& value) {
  const Handle d = open_dataset(f, path);
  Handle space(check(H5Dget_space(d.get()), where(f, path)));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  const hsize_t grown = n + 1, one = 1;
  check_status(H5Dset_extent(d.get(), &grown), "cannot extend " + where(f, path));
  Handle file_space(check(H5Dget_space(d.get()), where(f, path)));
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &n, nullptr, &one, nullptr), "select");
  Handle memory(check(H5Screate_simple(1, &one, nullptr), "H5Screate"));
  const Handle t = string_type();
  const char* text = value.c_str();
  check_status(H5Dwrite(d.get(), t.get(), memory.get(), file_space.get(), H5P_DEFAULT, &text),
               "cannot write " + where(f, path));
}

std::vector<std::string> read_strings(const File& f, const std::string& path) {
  const Handle d = open_dataset(f, path);
  Handle space(check(H5Dget_space(d.get()), where(f, path)));
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<char*> raw(n, nullptr);
  const Handle t = string_type();
  if (n) check_status(H5Dread(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "cannot read " + where(f, path));
  std::vector<std::string> out;
  for (char* s : raw) out.emplace_back(s ? s : "");
  if (n) H5Dvlen_reclaim(t.get(), space.get(), H5P_DEFAULT, raw.data());
  return out;
}

void write_doubles(const File& f, const std::string& path, const std::vector<std::size_t>& shape,
                   const double* data) {
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate"));
  std::size_t bytes = sizeof(double);
  for (const auto n : dims) bytes *= n;
  // Small arrays (per-point kernels up to ~60 x 60) go into the dataset's object header (compact
  // layout): no separate raw-data allocation, which is most of the cost of recording a point.
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"));
  if (bytes <= 30000) check_status(H5Pset_layout(dcpl.get(), H5D_COMPACT), "H5Pset_layout");
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
  check_status(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write " + where(f, path));
}

void write_strings(const File& f, const std::string& path, const std::vector<std::string>& values) {
  const hsize_t n = values.size();
  Handle space(check(H5Screate_simple(1, &n, nullptr), "H5Screate"));
  const Handle t = string_type();
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
  std::vector<const char*> raw;
  for (const auto& v : values) raw.push_back(v.c_str());
  check_status(H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "cannot write " + where(f, path));
}

void write_text(const File& f, const std::string& path, const std::string& value) {
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
  const Handle t = string_type();
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
  const char* text = value.c_str();
  check_status(H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), "cannot write " + where(f, path));
}

std::string read_text(const File& f, const std::string& path) {
  const auto all = read_strings(f, path);
  if (all.size() != 1) throw Error(where(f, path) + ": not a scalar text");
  return all[0];
}

void write_int64s(const File& f, const std::string& path, const std::vector<std::int64_t>& values) {
  const hsize_t n = values.size();
  Handle space(check(H5Screate_simple(1, &n, nullptr), "H5Screate"));
  Handle d(check(H5Dcreate2(f.id(), path.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create dataset " + where(f, path)));
  check_status(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot write " + where(f, path));
}

void write_element(const File& f, const std::string& path, std::uint64_t flat, double value) {
  const Handle d = open_dataset(f, path);
  const Handle space = select_element(d, flat, where(f, path));
  const hsize_t one = 1;
  Handle memory(check(H5Screate_simple(1, &one, nullptr), "H5Screate"));
  check_status(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, memory.get(), space.get(), H5P_DEFAULT, &value),
               "cannot write " + where(f, path));
}

void write_element_int(const File& f, const std::string& path, std::uint64_t flat, std::int64_t value) {
  const Handle d = open_dataset(f, path);
  const Handle space = select_element(d, flat, where(f, path));
  const hsize_t one = 1;
  Handle memory(check(H5Screate_simple(1, &one, nullptr), "H5Screate"));
  check_status(H5Dwrite(d.get(), H5T_NATIVE_INT64, memory.get(), space.get(), H5P_DEFAULT, &value),
               "cannot write " + where(f, path));
}

namespace {

// Selects several elements (flat C-order indices, in this order) of a dataset's file space: a
// batch of points is one H5Dwrite per dataset instead of one per point.
Handle select_elements(const Handle& dataset, const std::vector<std::uint64_t>& flat, const std::string& what) {
  Handle space(check(H5Dget_space(dataset.get()), what));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<hsize_t> coordinates(flat.size() * dims.size());
  for (std::size_t i = 0; i < flat.size(); ++i) {
    std::uint64_t rest = flat[i];
    for (std::size_t d = dims.size(); d-- > 0;) {
      coordinates[i * dims.size() + d] = rest % dims[d];
      rest /= dims[d];
    }
    if (rest != 0) throw Error(what + ": point index out of range");
  }
  check_status(H5Sselect_elements(space.get(), H5S_SELECT_SET, flat.size(), coordinates.data()), what);
  return space;
}

template <typename T>
void write_selected(const File& f, const std::string& path, const std::vector<std::uint64_t>& flat,
                    const std::vector<T>& values, hid_t memory_type) {
  if (flat.size() != values.size()) throw Error(where(f, path) + ": " + std::to_string(flat.size()) +
                                                " indices for " + std::to_string(values.size()) + " values");
  if (flat.empty()) return;
  const Handle d = open_dataset(f, path);
  const Handle space = select_elements(d, flat, where(f, path));
  const hsize_t n = flat.size();
  Handle memory(check(H5Screate_simple(1, &n, nullptr), "H5Screate"));
  check_status(H5Dwrite(d.get(), memory_type, memory.get(), space.get(), H5P_DEFAULT, values.data()),
               "cannot write " + where(f, path));
}

}  // namespace

void write_elements(const File& f, const std::string& path, const std::vector<std::uint64_t>& flat,
                    const std::vector<double>& values) {
  write_selected(f, path, flat, values, H5T_NATIVE_DOUBLE);
}

void write_elements_int(const File& f, const std::string& path, const std::vector<std::uint64_t>& flat,
                        const std::vector<std::int64_t>& values) {
  write_selected(f, path, flat, values, H5T_NATIVE_INT64);
}

void write_elements_string(const File& f, const std::string& path, const std::vector<std::uint64_t>& flat,
                           const std::vector<std::string>& values) {
  std::vector<const char*> raw;
  raw.reserve(values.size());
  for (const auto& v : values) raw.push_back(v.c_str());
  const Handle t = string_type();
  write_selected(f, path, flat, raw, t.get());
}

std::vector<std::size_t> shape(const File& f, const std::string& path) {
  const Handle d = open_dataset(f, path);
  Handle space(check(H5Dget_space(d.get()), where(f, path)));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

bool has_element_type(const File& f, const std::string& path, ElementType type) {
  const Handle d = open_dataset(f, path);
  const Handle stored(check(H5Dget_type(d.get()), "cannot read the type of " + where(f, path)));
  return H5Tequal(stored.get(), native(type)) > 0;
}

std::vector<double> read_doubles(const File& f, const std::string& path) {
  const Handle d = open_dataset(f, path);
  Handle space(check(H5Dget_space(d.get()), where(f, path)));
  std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (!out.empty())
    check_status(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "cannot read " + where(f, path));
  return out;
}

std::vector<std::int64_t> read_ints(const File& f, const std::string& path) {
  const Handle d = open_dataset(f, path);
  Handle space(check(H5Dget_space(d.get()), where(f, path)));
  std::vector<std::int64_t> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (!out.empty())
    check_status(H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "cannot read " + where(f, path));
  return out;
}

void set_attribute(const File& f, const std::string& path, const std::string& name, const std::string& value) {
  const Handle object = open_object(f, path);
  if (H5Aexists(object.get(), name.c_str()) > 0) H5Adelete(object.get(), name.c_str());
  // Variable-length UTF-8: h5py returns str (fixed-length strings come back as bytes), and the
  // text lives in the global heap, so long values do not hit the 64 kB object-header limit.
  const Handle t = string_type();
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
  Handle a(check(H5Acreate2(object.get(), name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create attribute " + name + " on " + where(f, path)));
  const char* text = value.c_str();
  check_status(H5Awrite(a.get(), t.get(), &text), "cannot write attribute " + name);
}

namespace {

template <typename T>
void set_scalar_attribute(const File& f, const std::string& path, const std::string& name, hid_t type, T value) {
  const Handle object = open_object(f, path);
  // An existing one is written in place: its message in the object header keeps its size and
  // place, so a flag set and cleared around every write changes no other metadata.
  if (H5Aexists(object.get(), name.c_str()) > 0) {
    Handle a(
        check(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT), "cannot open attribute " + name));
    check_status(H5Awrite(a.get(), type, &value), "cannot write attribute " + name);
    return;
  }
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
  Handle a(check(H5Acreate2(object.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create attribute " + name));
  check_status(H5Awrite(a.get(), type, &value), "cannot write attribute " + name);
}

}  // namespace

void set_attribute_int64(const File& f, const std::string& path, const std::string& name, std::int64_t value) {
  set_scalar_attribute(f, path, name, H5T_NATIVE_INT64, value);
}

void set_attribute_int8(const File& f, const std::string& path, const std::string& name, std::int8_t value) {
  set_scalar_attribute(f, path, name, H5T_NATIVE_INT8, value);
}

void set_attribute(const File& f, const std::string& path, const std::string& name, double value) {
  const Handle object = open_object(f, path);
  if (H5Aexists(object.get(), name.c_str()) > 0) H5Adelete(object.get(), name.c_str());
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
  Handle a(check(H5Acreate2(object.get(), name.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create attribute " + name));
  check_status(H5Awrite(a.get(), H5T_NATIVE_DOUBLE, &value), "cannot write attribute " + name);
}

void set_attribute_int8s(const File& f, const std::string& path, const std::string& name,
                         const std::vector<std::int8_t>& values) {
  const Handle object = open_object(f, path);
  const hsize_t n = values.size();
  Handle space(check(H5Screate_simple(1, &n, nullptr), "H5Screate"));
  Handle a(check(H5Acreate2(object.get(), name.c_str(), H5T_NATIVE_INT8, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create attribute " + name));
  check_status(H5Awrite(a.get(), H5T_NATIVE_INT8, values.data()), "cannot write attribute " + name);
}

bool has_attribute(const File& f, const std::string& path, const std::string& name) {
  const Handle object = open_object(f, path);
  return H5Aexists(object.get(), name.c_str()) > 0;
}

std::string string_attribute(const File& f, const std::string& path, const std::string& name) {
  const Handle object = open_object(f, path);
  Handle a(check(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT), "no attribute " + name + " on " + where(f, path)));
  Handle t(check(H5Aget_type(a.get()), "H5Aget_type"));
  if (H5Tis_variable_str(t.get()) > 0) {
    char* text = nullptr;
    check_status(H5Aread(a.get(), t.get(), &text), "cannot read attribute " + name);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  std::string out(H5Tget_size(t.get()), '\0');
  check_status(H5Aread(a.get(), t.get(), out.data()), "cannot read attribute " + name);
  out.resize(std::strlen(out.c_str()));
  return out;
}

double double_attribute(const File& f, const std::string& path, const std::string& name) {
  const Handle object = open_object(f, path);
  Handle a(check(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT), "no attribute " + name + " on " + where(f, path)));
  double x = 0;
  check_status(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &x), "cannot read attribute " + name);
  return x;
}

void make_dimension_scale(const File& f, const std::string& path, const std::string& name) {
  const Handle d = open_dataset(f, path);
  check_status(H5DSset_scale(d.get(), name.c_str()), "cannot make " + where(f, path) + " a dimension scale");
}

void attach_dimension_scale(const File& f, const std::string& dataset, const std::string& scale, unsigned dim) {
  const Handle d = open_dataset(f, dataset);
  const Handle s = open_dataset(f, scale);
  check_status(H5DSattach_scale(d.get(), s.get(), dim), "cannot attach scale " + scale + " to " + where(f, dataset));
}

std::uint64_t raw_data_offset(const File& f, const std::string& path) {
  const Handle d = open_dataset(f, path);
  const haddr_t offset = H5Dget_offset(d.get());
  if (offset == HADDR_UNDEF) fail(where(f, path) + " has no contiguous raw data");
  return static_cast<std::uint64_t>(offset);
}

std::vector<std::string> list_group(const File& f, const std::string& path) {
  Handle g(check(H5Gopen2(f.id(), path.c_str(), H5P_DEFAULT), "cannot open group " + where(f, path)));
  H5G_info_t info;
  check_status(H5Gget_info(g.get(), &info), "H5Gget_info");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0) fail("cannot list " + where(f, path));
    std::string name(static_cast<std::size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(size));
    names.push_back(name);
  }
  return names;
}

}  // namespace kernelsweep::h5
