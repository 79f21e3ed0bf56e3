#pragma once
// The append-only journal beside a results file (diagram.h5.journal): every finished point and every
// run's provenance row is appended and fsynced BEFORE the HDF5 file is touched, so a SIGKILL or a
// crash at any moment loses nothing that was reported done. The HDF5 file is a view that resume
// rebuilds from the journal if it is damaged.
// Record framing: u32 payload length, u32 CRC-32 of the payload, payload (CBOR), little-endian.
// A torn last record (killed mid-append) fails its length/CRC check and is dropped on open.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kernelsweep {

class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JournalContents {
  std::vector<nlohmann::json> records;
  std::uint64_t valid_bytes = 0;   // length of the intact prefix
  std::uint64_t dropped_bytes = 0; // torn tail
};

// Reads every intact record (does not modify the file).
JournalContents read_journal(const std::string& path);

class JournalWriter {
 public:
  // Opens for appending; truncates a torn tail first (to `valid_bytes` from read_journal).
  JournalWriter(const std::string& path, std::uint64_t valid_bytes);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Appends one record and fsyncs; throws JournalError naming the file and errno text on failure.
  void append(const nlohmann::json& record);
  // Appends several records with a single write and a single fsync (group commit); returns the
  // bytes appended. A kill mid-batch leaves an intact prefix of the batch plus at most one torn
  // record, which read_journal drops: the records that survive are whole, none is half there.
  std::size_t append_batch(std::span<const nlohmann::json> records);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace kernelsweep
