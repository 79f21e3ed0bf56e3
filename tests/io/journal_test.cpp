// The journal's framing: a damaged record (any byte of it flipped, a run of random bytes over
// several records) is skipped and every later intact record kept; a torn tail is cut only after
// it is kept elsewhere; the format of earlier versions is read and converted, the old file kept;
// a journal whose header is damaged is still checked against the sweep.
#include "io/journal.hpp"

#include <gtest/gtest.h>

#include <boost/crc.hpp>
#include <fstream>
#include <random>

#include "io/results_session.hpp"
#include "run_helpers.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

namespace {

std::vector<std::uint8_t> bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
}

// Records of varying size with random binary payloads (like encoded points: doubles, any byte).
std::vector<nlohmann::json> sample_records(int n, const std::string& hash = "abc") {
  std::mt19937 random(42);
  std::vector<nlohmann::json> records = {
      {{"type", "header"}, {"sweep_hash", hash}, {"sweep_yaml", "name: x\n"}}};
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> blob(20 + random() % 200);
    for (auto& b : blob) b = static_cast<std::uint8_t>(random());
    records.push_back({{"type", "point"},
                       {"i", i},
                       {"sweep_hash", hash},
                       {"result", nlohmann::json::binary(blob)}});
  }
  return records;
}

// Byte offset where each record starts in a journal written record by record, and the end.
std::vector<std::size_t> frame_starts(const std::vector<nlohmann::json>& records) {
  std::vector<std::size_t> starts = {0};
  for (const auto& r : records) starts.push_back(starts.back() + journal_frame(r).size());
  return starts;
}

std::filesystem::path written_journal(const std::filesystem::path& dir,
                                      const std::vector<nlohmann::json>& records) {
  const auto path = dir / "j.journal";
  std::filesystem::remove(path);
  JournalWriter writer(path.string(), JournalContents{});
  for (const auto& r : records) writer.append(r);
  return path;
}

}  // namespace

TEST(Journal, EveryFlippedByteOfARecordLosesThatRecordOnly) {
  const auto dir = scratch_dir("journal-flip");
  const auto records = sample_records(12);
  const auto path = written_journal(dir, records);
  const auto original = bytes_of(path);
  const auto starts = frame_starts(records);
  ASSERT_EQ(starts.back(), original.size());
  const int victim = 5;
  for (std::size_t at = starts[victim]; at < starts[victim + 1]; ++at) {
    auto damaged = original;
    damaged[at] ^= 0x10;
    write_bytes(path, damaged);
    const JournalContents c = read_journal(path.string());
    ASSERT_EQ(c.records.size(), records.size() - 1) << "byte " << at;
    for (std::size_t i = 0, j = 0; i < records.size(); ++i)
      if (static_cast<int>(i) != victim) {
        ASSERT_EQ(c.records[j++], records[i]) << "byte " << at;
      }
    ASSERT_EQ(c.skipped.size(), 1u) << "byte " << at;
    EXPECT_EQ(c.skipped[0].offset, starts[victim]);
    EXPECT_EQ(c.skipped[0].bytes, starts[victim + 1] - starts[victim]);
    EXPECT_EQ(c.dropped_bytes, 0u);
    EXPECT_EQ(c.valid_bytes, original.size());
  }
}

TEST(Journal, RandomBytesOverSeveralRecordsLoseOnlyThose) {
  const auto dir = scratch_dir("journal-smear");
  const auto records = sample_records(30);
  const auto path = written_journal(dir, records);
  auto bytes = bytes_of(path);
  const auto starts = frame_starts(records);
  std::mt19937 random(7);
  const std::size_t from = starts[10] + 3, to = starts[14] + 1;  // touches records 10..14
  for (std::size_t at = from; at < to; ++at) bytes[at] = static_cast<std::uint8_t>(random());
  write_bytes(path, bytes);
  const JournalContents c = read_journal(path.string());
  std::vector<nlohmann::json> expected(records.begin(), records.begin() + 10);
  expected.insert(expected.end(), records.begin() + 15, records.end());
  EXPECT_EQ(c.records, expected);
}

TEST(Journal, TornTailIsKeptThenCutAndAppendsContinue) {
  const auto dir = scratch_dir("journal-torn");
  const auto records = sample_records(6);
  const auto path = written_journal(dir, records);
  const auto original = bytes_of(path);
  const auto starts = frame_starts(records);
  for (const std::size_t cut : {starts[6] + 1, starts[6] + 19, starts[7] - 1}) {
    std::vector<std::uint8_t> torn(original.begin(), original.begin() + static_cast<long>(cut));
    write_bytes(path, torn);
    const JournalContents c = read_journal(path.string());
    ASSERT_EQ(c.records.size(), 6u);
    EXPECT_EQ(c.valid_bytes, starts[6]);
    EXPECT_EQ(c.dropped_bytes, cut - starts[6]);
    {
      JournalWriter writer(path.string(), c);
      ASSERT_EQ(writer.notes().size(), 1u);
      const std::string note = writer.notes()[0];
      const std::string kept = note.substr(note.find("kept as ") + 8);
      EXPECT_EQ(bytes_of(kept),
                std::vector<std::uint8_t>(torn.begin() + static_cast<long>(starts[6]), torn.end()));
      std::filesystem::remove(kept);
      writer.append(records.back());
    }
    const JournalContents after = read_journal(path.string());
    EXPECT_EQ(after.records.size(), 7u);
    EXPECT_EQ(after.records.back(), records.back());
    EXPECT_EQ(after.dropped_bytes, 0u);
  }
}

TEST(Journal, EarlierFormatIsReadAndConvertedWithTheOldFileKept) {
  const auto dir = scratch_dir("journal-v1");
  const auto records = sample_records(4);
  // Format 1, written here independently: u32 length, u32 CRC-32, CBOR payload.
  std::vector<std::uint8_t> v1;
  for (const auto& r : records) {
    const auto payload = nlohmann::json::to_cbor(r);
    boost::crc_32_type crc;
    crc.process_bytes(payload.data(), payload.size());
    for (const std::uint32_t x : {static_cast<std::uint32_t>(payload.size()), crc.checksum()})
      for (int i = 0; i < 4; ++i) v1.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
    v1.insert(v1.end(), payload.begin(), payload.end());
  }
  const auto path = dir / "j.journal";
  write_bytes(path, v1);
  const JournalContents c = read_journal(path.string());
  EXPECT_EQ(c.format, 1);
  EXPECT_EQ(c.records, records);
  {
    JournalWriter writer(path.string(), c);
    ASSERT_EQ(writer.notes().size(), 1u);
    const std::string note = writer.notes()[0];
    EXPECT_EQ(bytes_of(note.substr(note.find("kept as ") + 8)), v1);
    writer.append(records[1]);
  }
  const JournalContents after = read_journal(path.string());
  EXPECT_EQ(after.format, 2);
  ASSERT_EQ(after.records.size(), records.size() + 1);
  EXPECT_EQ(std::vector<nlohmann::json>(after.records.begin(), after.records.end() - 1), records);
  EXPECT_EQ(after.records.back(), records[1]);
}

TEST(Journal, DamagedHeaderDoesNotSkipTheSweepCheck) {
  const auto dir = scratch_dir("journal-header");
  // Points without their own hash (as written by earlier versions): only the header names the
  // sweep.
  std::vector<nlohmann::json> records = {{{"type", "header"}, {"sweep_hash", "abc"}}};
  for (int i = 0; i < 3; ++i) records.push_back({{"type", "point"}, {"i", i}});
  const auto path = written_journal(dir, records);
  auto bytes = bytes_of(path);
  EXPECT_EQ(journal_sweep_problem(read_journal(path.string()), "abc", "j"), "");
  EXPECT_NE(
      journal_sweep_problem(read_journal(path.string()), "other", "j").find("different sweep"),
      std::string::npos);
  bytes[25] ^= 1;  // inside the header's payload
  write_bytes(path, bytes);
  const JournalContents c = read_journal(path.string());
  EXPECT_EQ(c.records.size(), 3u);
  EXPECT_NE(journal_sweep_problem(c, "abc", "j").find("no intact record names its sweep"),
            std::string::npos);
  // Records that name their sweep are checked even without the header.
  const auto hashed = sample_records(3, "abc");
  const auto path2 = written_journal(dir, hashed);
  auto b2 = bytes_of(path2);
  b2[25] ^= 1;
  write_bytes(path2, b2);
  const JournalContents c2 = read_journal(path2.string());
  EXPECT_EQ(c2.records.size(), 3u);
  EXPECT_EQ(journal_sweep_problem(c2, "abc", "j"), "");
  EXPECT_NE(journal_sweep_problem(c2, "xyz", "j").find("different sweep"), std::string::npos);
}

TEST(Journal, DamagedFirstMarkerIsResynchronizedNotReadAsTheOldFormat) {
  const auto dir = scratch_dir("journal-first");
  const auto records = sample_records(5);
  const auto path = written_journal(dir, records);
  auto bytes = bytes_of(path);
  bytes[0] ^= 0xff;
  write_bytes(path, bytes);
  const JournalContents c = read_journal(path.string());
  EXPECT_EQ(c.format, 2);
  EXPECT_EQ(c.records, std::vector<nlohmann::json>(records.begin() + 1, records.end()));
}
