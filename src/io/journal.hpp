#pragma once
// The append-only journal beside a results file (diagram.h5.journal): every finished point and
// every run's provenance row is appended and fsynced BEFORE the HDF5 file is touched, so a SIGKILL
// or a crash at any moment loses nothing that was reported done. The HDF5 file is a view that
// resume rebuilds from the journal if it is damaged. Record framing (format 2, little-endian):
//   8-byte sync marker | u32 payload length | u32 CRC-32 of the payload |
//   u32 CRC-32 of the 16 bytes before it | payload (CBOR)
// A damaged record (flipped byte, torn write) fails a check; the reader skips it, scans forward for
// the next sync marker and keeps every later intact record, reporting what it skipped. Garbage
// after the last intact record is a torn tail (killed mid-append). Format 1 (u32 length, u32 CRC,
// payload, no marker) is still read; a writer converts it to format 2 and keeps the old file. The
// journal is never rewritten in place: bytes a writer drops (a torn tail, the format-1 file) are
// first kept in a file of their own (unique_kept_name).
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

struct JournalRegion {
  std::uint64_t offset = 0, bytes = 0;
};

struct JournalContents {
  int format = 2;                       // 1: the unframed format of earlier versions
  std::vector<nlohmann::json> records;  // every intact record, in file order
  std::uint64_t valid_bytes = 0;        // end of the last intact record (where appends go)
  std::uint64_t dropped_bytes = 0;      // torn tail after it
  std::vector<JournalRegion> skipped;   // damaged regions between intact records
};

// Reads every intact record (does not modify the file).
JournalContents read_journal(const std::string& path);

// "<path>.<tag>-<UTC time>-<pid>[-n]", a name no file has yet (for kept copies of damaged data).
std::string unique_kept_name(const std::string& path, const std::string& tag);

class JournalWriter {
 public:
  // Opens for appending after `contents` (read_journal of the same path, or empty for a new
  // journal). A torn tail is copied to a kept file before it is cut; a format-1 journal is
  // rewritten as format 2 into a new file that replaces it, the old one kept. notes() says which.
  JournalWriter(const std::string& path, const JournalContents& contents);
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
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  void keep_torn_tail(const JournalContents& contents);
  void upgrade_format(const JournalContents& contents);
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> notes_;
};

// The framed bytes of one record (exposed for the fault-injection tests).
std::vector<std::uint8_t> journal_frame(const nlohmann::json& record);

}  // namespace kernelsweep
