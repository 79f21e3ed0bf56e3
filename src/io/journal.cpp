#include "io/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace kernelsweep {

namespace {

// Bytes CBOR never starts a record with (0xff is a "break" outside indefinite items), chosen so a
// false match inside a payload is rare; the header CRC makes a false sync ~2^-32 even then.
constexpr std::uint8_t kMarker[8] = {0xff, 'K', 'S', 'J', 'R', 'E', 'C', 0xfe};
constexpr std::size_t kHeaderBytes = 20;  // marker, length, payload CRC, header CRC

std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

bool parse_payload(const std::vector<std::uint8_t>& bytes, std::size_t from, std::size_t length,
                   nlohmann::json& record) {
  try {
    record = nlohmann::json::from_cbor(bytes.begin() + static_cast<long>(from),
                                       bytes.begin() + static_cast<long>(from + length));
    return record.is_object();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// One format-2 record at `at`: true and `next` past it if every check passes.
bool parse_frame(const std::vector<std::uint8_t>& bytes, std::size_t at, nlohmann::json& record,
                 std::size_t& next) {
  if (at + kHeaderBytes > bytes.size() || std::memcmp(&bytes[at], kMarker, sizeof kMarker) != 0)
    return false;
  if (crc32(&bytes[at], 16) != get_u32(&bytes[at + 16])) return false;
  const std::uint64_t length = get_u32(&bytes[at + 8]);
  if (at + kHeaderBytes + length > bytes.size()) return false;
  if (crc32(&bytes[at + kHeaderBytes], length) != get_u32(&bytes[at + 12])) return false;
  if (!parse_payload(bytes, at + kHeaderBytes, length, record)) return false;
  next = at + kHeaderBytes + length;
  return true;
}

JournalContents read_format2(const std::vector<std::uint8_t>& bytes) {
  JournalContents contents;
  std::size_t at = 0;
  std::int64_t damaged_from = -1;
  while (at < bytes.size()) {
    nlohmann::json record;
    std::size_t next = 0;
    if (parse_frame(bytes, at, record, next)) {
      if (damaged_from >= 0)
        contents.skipped.push_back({static_cast<std::uint64_t>(damaged_from),
                                    at - static_cast<std::uint64_t>(damaged_from)});
      damaged_from = -1;
      contents.records.push_back(std::move(record));
      at = contents.valid_bytes = next;
      continue;
    }
    if (damaged_from < 0) damaged_from = static_cast<std::int64_t>(at);
    const auto found = std::search(bytes.begin() + static_cast<long>(at) + 1, bytes.end(),
                                   std::begin(kMarker), std::end(kMarker));
    at = static_cast<std::size_t>(found - bytes.begin());
  }
  contents.dropped_bytes = bytes.size() - contents.valid_bytes;
  return contents;
}

// Format 1: records back to back, no marker; the first bad record ends what can be read.
JournalContents read_format1(const std::vector<std::uint8_t>& bytes) {
  JournalContents contents;
  contents.format = 1;
  std::size_t at = 0;
  while (at + 8 <= bytes.size()) {
    const std::uint64_t length = get_u32(&bytes[at]);
    nlohmann::json record;
    if (at + 8 + length > bytes.size() ||
        crc32(&bytes[at + 8], length) != get_u32(&bytes[at + 4]) ||
        !parse_payload(bytes, at + 8, length, record))
      break;
    contents.records.push_back(std::move(record));
    at += 8 + length;
  }
  contents.valid_bytes = at;
  contents.dropped_bytes = bytes.size() - at;
  return contents;
}

void write_all(int fd, const std::uint8_t* data, std::size_t size, const std::string& path) {
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw JournalError(path + ": cannot write: " + std::strerror(errno));
    written += static_cast<std::size_t>(n);
  }
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JournalError(path + ": cannot open the journal: " + std::strerror(errno));
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

// Writes `bytes` to a new file `path` (must not exist) and fsyncs it.
void write_new_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw JournalError(path + ": cannot create: " + std::strerror(errno));
  try {
    write_all(fd, data, size, path);
    if (::fsync(fd) != 0) throw JournalError(path + ": cannot fsync: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  ::close(fd);
}

}  // namespace

std::vector<std::uint8_t> journal_frame(const nlohmann::json& record) {
  const std::vector<std::uint8_t> payload = nlohmann::json::to_cbor(record);
  std::vector<std::uint8_t> frame(std::begin(kMarker), std::end(kMarker));
  put_u32(frame, static_cast<std::uint32_t>(payload.size()));
  put_u32(frame, crc32(payload.data(), payload.size()));
  put_u32(frame, crc32(frame.data(), 16));
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

JournalContents read_journal(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  // Format 1 has no marker; a format-2 journal whose first marker is damaged does not read as
  // format 1 either (its first record fails format 1's CRC), so it is resynchronized instead.
  if (bytes.size() >= sizeof kMarker && std::memcmp(bytes.data(), kMarker, sizeof kMarker) != 0) {
    JournalContents v1 = read_format1(bytes);
    if (!v1.records.empty()) return v1;
  }
  return read_format2(bytes);
}

std::string unique_kept_name(const std::string& path, const std::string& tag) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = path + "." + tag + "-" + stamp + "-" + std::to_string(::getpid());
  std::string name = base;
  for (int n = 1; std::filesystem::exists(name) || std::filesystem::exists(name + ".journal"); ++n)
    name = base + "-" + std::to_string(n);
  return name;
}

JournalWriter::JournalWriter(const std::string& path, const JournalContents& contents)
    : path_(path) {
  if (contents.format == 1) {
    upgrade_format(contents);
  } else if (contents.dropped_bytes > 0) {
    keep_torn_tail(contents);
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw JournalError(path + ": cannot open the journal for writing: " + std::strerror(errno));
  // The torn tail is kept by now (or the file was replaced by its format-2 copy): cut, append.
  struct stat st {};
  const bool cut = contents.format == 2 && ::fstat(fd_, &st) == 0 &&
                   static_cast<std::uint64_t>(st.st_size) > contents.valid_bytes;
  if ((cut && ::ftruncate(fd_, static_cast<off_t>(contents.valid_bytes)) != 0) ||
      ::lseek(fd_, 0, SEEK_END) < 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    throw JournalError(path + ": cannot prepare the journal: " + reason);
  }
}

void JournalWriter::keep_torn_tail(const JournalContents& contents) {
  const std::vector<std::uint8_t> bytes = read_bytes(path_);
  if (bytes.size() <= contents.valid_bytes) return;
  const std::string kept = unique_kept_name(path_, "torn");
  write_new_file(kept, bytes.data() + contents.valid_bytes, bytes.size() - contents.valid_bytes);
  notes_.push_back("cut a torn journal tail (" +
                   std::to_string(bytes.size() - contents.valid_bytes) +
                   " bytes after the last intact record), kept as " + kept);
}

void JournalWriter::upgrade_format(const JournalContents& contents) {
  std::vector<std::uint8_t> framed;
  for (const auto& record : contents.records) {
    const auto frame = journal_frame(record);
    framed.insert(framed.end(), frame.begin(), frame.end());
  }
  const std::string fresh = unique_kept_name(path_, "format2");
  write_new_file(fresh, framed.data(), framed.size());
  const std::string kept = unique_kept_name(path_, "format1");
  if (::link(path_.c_str(), kept.c_str()) != 0 || ::rename(fresh.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(fresh.c_str());
    throw JournalError(path_ + ": cannot convert the journal to format 2: " + reason);
  }
  notes_.push_back("converted the journal to format 2 (" + std::to_string(contents.records.size()) +
                   " records); the old one is kept as " + kept);
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const nlohmann::json& record) {
  append_batch({&record, 1});
}

std::size_t JournalWriter::append_batch(std::span<const nlohmann::json> records) {
  if (records.empty()) return 0;
  std::vector<std::uint8_t> frames;
  for (const auto& record : records) {
    const auto frame = journal_frame(record);
    frames.insert(frames.end(), frame.begin(), frame.end());
  }
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  try {
    write_all(fd_, frames.data(), frames.size(), path_);
  } catch (const JournalError& e) {
    // Leave no partial record behind: the next append must start at a record boundary.
    if (start >= 0 && ::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
    throw JournalError(path_ + ": cannot append to the journal: " +
                       std::string(e.what()).substr(path_.size() + 2));
  }
  // One fsync for the whole batch (group commit): the fsync, not the write, is what costs
  // milliseconds, and none of these records is reported durable before it returns.
  if (::fsync(fd_) != 0)
    throw JournalError(path_ + ": cannot fsync the journal: " + std::strerror(errno));
  return frames.size();
}

}  // namespace kernelsweep
