#pragma once
// The one wrapper over the HDF5 C API: owning handles (closed by the right H5*close), error
// checking that turns HDF5's error stack into an exception naming the file and the operation, and
// the few typed reads/writes the phase-diagram store needs. Nothing else includes hdf5.h.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kernelsweep::h5 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using hid = std::int64_t;  // hid_t

// An owned HDF5 identifier of any kind; closes it with H5Fclose/H5Gclose/... on destruction.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }
  hid get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void close();

 private:
  hid id_ = -1;
};

enum class ElementType { float64, int8, int32, int64, string };

std::string library_version();
// Turns off HDF5's printing of error stacks (we throw instead). Idempotent.
void silence_errors();
// Call first thing in main, before any other HDF5 call: HDF5 then does not close open files at
// exit. Every file is closed by its Handle before main returns; a file whose close failed (disk
// full while it was created) stays open inside HDF5, and closing it again at exit segfaulted.
void skip_close_at_exit();

class File {
 public:
  // Default file format (not 'latest'), so a killed writer leaves a file older readers can open.
  static File create(const std::string& path);
  static File open(const std::string& path, bool writable);
  const std::string& path() const { return path_; }
  hid id() const { return handle_.get(); }
  void flush();
  void close() { handle_.close(); }

 private:
  std::string path_;
  Handle handle_;
};

// Datasets and groups are addressed by path ("status", "points/12/theory_H").
bool exists(const File& file, const std::string& path);
void create_group(const File& file, const std::string& path);
void remove_link(const File& file, const std::string& path);

// A fixed-shape dataset, allocated at creation, filled with `fill` (NaN, 0, -1 ...); strings are
// variable-length UTF-8, empty until written.
void create_dataset(const File& file, const std::string& path, ElementType type,
                    const std::vector<std::size_t>& shape, double fill);
// A 1-D string dataset that can grow (for the run log).
void create_growable_strings(const File& file, const std::string& path);
void append_string(const File& file, const std::string& path, const std::string& value);
std::vector<std::string> read_strings(const File& file, const std::string& path);

void write_doubles(const File& file, const std::string& path, const std::vector<std::size_t>& shape,
                   const double* data);  // creates the dataset (row-major data)
void write_strings(const File& file, const std::string& path, const std::vector<std::string>& values);
// A scalar variable-length string dataset (large text such as the normalized sweep spec: no 64 kB
// attribute limit).
void write_text(const File& file, const std::string& path, const std::string& value);
std::string read_text(const File& file, const std::string& path);
void write_int64s(const File& file, const std::string& path, const std::vector<std::int64_t>& values);
// One element of an N-d dataset, at a flat C-order index.
void write_element(const File& file, const std::string& path, std::uint64_t flat_index, double value);
void write_element_int(const File& file, const std::string& path, std::uint64_t flat_index, std::int64_t value);
// Several elements at once (flat C-order indices, values in the same order): one H5Dwrite.
void write_elements(const File& file, const std::string& path, const std::vector<std::uint64_t>& flat,
                    const std::vector<double>& values);
void write_elements_int(const File& file, const std::string& path, const std::vector<std::uint64_t>& flat,
                        const std::vector<std::int64_t>& values);
// Variable-length UTF-8 strings (a dataset created with ElementType::string).
void write_elements_string(const File& file, const std::string& path, const std::vector<std::uint64_t>& flat,
                           const std::vector<std::string>& values);
std::vector<double> read_doubles(const File& file, const std::string& path);
std::vector<std::int64_t> read_ints(const File& file, const std::string& path);
std::vector<std::size_t> shape(const File& file, const std::string& path);
// True if the dataset's stored element type is exactly `type` (native, not string): a damaged
// datatype message makes HDF5's conversions write out of bounds.
bool has_element_type(const File& file, const std::string& path, ElementType type);

// Attributes on an object (path "/" for the root). Strings are variable-length UTF-8 (h5py
// returns str, netCDF readers text); numbers keep the dataset's type where CF needs it (_FillValue).
void set_attribute(const File& file, const std::string& path, const std::string& name, const std::string& value);
void set_attribute(const File& file, const std::string& path, const std::string& name, double value);
void set_attribute_int8s(const File& file, const std::string& path, const std::string& name,
                         const std::vector<std::int8_t>& values);
void set_attribute_int64(const File& file, const std::string& path, const std::string& name, std::int64_t value);
void set_attribute_int8(const File& file, const std::string& path, const std::string& name, std::int8_t value);
bool has_attribute(const File& file, const std::string& path, const std::string& name);
std::string string_attribute(const File& file, const std::string& path, const std::string& name);
double double_attribute(const File& file, const std::string& path, const std::string& name);

// Dimension scales (H5DS, HDF5 high-level library): netCDF/xarray read them as coordinates.
void make_dimension_scale(const File& file, const std::string& path, const std::string& name);
void attach_dimension_scale(const File& file, const std::string& dataset, const std::string& scale, unsigned dim);

std::vector<std::string> list_group(const File& file, const std::string& path);

// Where a contiguous dataset's elements start in the file (bytes); throws for other layouts.
// For fault-injection tests, which damage a dataset's raw bytes the way a killed write does.
std::uint64_t raw_data_offset(const File& file, const std::string& path);

}  // namespace kernelsweep::h5
