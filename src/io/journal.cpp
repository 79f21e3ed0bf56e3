#include "io/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace kernelsweep {

namespace {

std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

}  // namespace

JournalContents read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JournalError(path + ": cannot open the journal: " + std::strerror(errno));
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  JournalContents contents;
  std::size_t at = 0;
  while (at + 8 <= bytes.size()) {
    const std::uint32_t length = get_u32(&bytes[at]);
    const std::uint32_t checksum = get_u32(&bytes[at + 4]);
    if (at + 8 + length > bytes.size() || crc32(&bytes[at + 8], length) != checksum) break;
    try {
      contents.records.push_back(nlohmann::json::from_cbor(bytes.begin() + static_cast<long>(at + 8),
                                                           bytes.begin() + static_cast<long>(at + 8 + length)));
    } catch (const nlohmann::json::exception&) {
      break;
    }
    at += 8 + length;
  }
  contents.valid_bytes = at;
  contents.dropped_bytes = bytes.size() - at;
  return contents;
}

JournalWriter::JournalWriter(const std::string& path, std::uint64_t valid_bytes) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw JournalError(path + ": cannot open the journal for writing: " + std::strerror(errno));
  if (::ftruncate(fd_, static_cast<off_t>(valid_bytes)) != 0 ||
      ::lseek(fd_, static_cast<off_t>(valid_bytes), SEEK_SET) < 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    throw JournalError(path + ": cannot prepare the journal: " + reason);
  }
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const nlohmann::json& record) { append_batch({&record, 1}); }

std::size_t JournalWriter::append_batch(std::span<const nlohmann::json> records) {
  if (records.empty()) return 0;
  std::vector<std::uint8_t> frames;
  for (const auto& record : records) {
    const std::vector<std::uint8_t> payload = nlohmann::json::to_cbor(record);
    put_u32(frames, static_cast<std::uint32_t>(payload.size()));
    put_u32(frames, crc32(payload.data(), payload.size()));
    frames.insert(frames.end(), payload.begin(), payload.end());
  }
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  std::size_t written = 0;
  while (written < frames.size()) {
    const ssize_t n = ::write(fd_, frames.data() + written, frames.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      // Leave no partial record behind: the next append must start at a record boundary.
      if (start >= 0 && ::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
      throw JournalError(path_ + ": cannot append to the journal: " + reason);
    }
    written += static_cast<std::size_t>(n);
  }
  // One fsync for the whole batch (group commit): the fsync, not the write, is what costs
  // milliseconds, and none of these records is reported durable before it returns.
  if (::fsync(fd_) != 0) throw JournalError(path_ + ": cannot fsync the journal: " + std::strerror(errno));
  return frames.size();
}

}  // namespace kernelsweep
