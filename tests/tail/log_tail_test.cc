// The tailer on real files: what `tail -F` does with appends, rotation, copytruncate and
// missing files, and with partial, CRLF and over-long lines.
#include "tail/log_tail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace dbrunbook::tail {
namespace {

using ::testing::HasSubstr;

class LogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "dbrunbook-tail-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/app.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Append(const std::string& text, const std::string& path = "") {
    std::ofstream out(path.empty() ? path_ : path, std::ios::app | std::ios::binary);
    out << text;
  }

  std::unique_ptr<LogTailer> Tailer(LogTailOptions options = {}) {
    auto tailer = LogTailer::Create({{path_, "orders-primary", {}}}, options);
    EXPECT_TRUE(tailer) << tailer.error().ToString();
    return tailer ? std::move(*tailer) : nullptr;
  }

  int64_t Poll(LogTailer& tailer, std::vector<std::string>* notices = nullptr) {
    now_ += std::chrono::seconds(1);
    auto result = tailer.Poll(now_);
    if (notices != nullptr) *notices = result.notices;
    return result.matches.at("orders-primary");
  }

  std::string dir_;
  std::string path_;
  core::MonoTime now_{};
};

const char* const kTooMany =
    "2026-11-27 06:00:01 ERROR SQLSTATE[08004] [1040] Too many connections\n";

TEST_F(LogTailTest, StartsAtTheEndAndFollowsAppends) {
  Append(kTooMany);  // history
  Append(kTooMany);
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  EXPECT_EQ(Poll(*tailer), 0);
  Append("INFO all good\n");
  Append(kTooMany);
  Append("ERROR (2013, 'Lost connection to MySQL server during query')\n");
  Append(
      "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld.sock' (2)\n");
  Append("OperationalError: (2006, 'MySQL server has gone away')\n");
  Append("java.net.ConnectException: Connection refused\n");
  Append("ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.3' (using password: YES)\n");
  Append(
      "Can't connect to MySQL server on 'db1:3306' (111) Connection refused\n");  // one line, once
  EXPECT_EQ(Poll(*tailer), 7);
  EXPECT_EQ(Poll(*tailer), 0);
}

TEST_F(LogTailTest, PartialLinesWaitForTheirNewlineAndCrlfEndsALine) {
  Append("");
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  Append("ERROR Too many conn");
  EXPECT_EQ(Poll(*tailer), 0);  // "Too many conn" does not match yet and is kept
  Append("ections\r\nERROR Server has gone away\r\n");
  EXPECT_EQ(Poll(*tailer), 2);
}

TEST_F(LogTailTest, RotationReadsTheRestOfTheOldFileThenTheNewFromItsStart) {
  Append("");
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);
  Append(kTooMany);  // written just before the rotation, not read yet
  Append("ERROR Too many connections, last line without newline");
  std::filesystem::rename(path_, path_ + ".1");
  Append(kTooMany);
  Append(kTooMany);
  std::vector<std::string> notices;
  EXPECT_EQ(Poll(*tailer, &notices), 4);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("was rotated"));
  Append(kTooMany, path_ + ".1");  // the old file is not followed any more
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);
}

TEST_F(LogTailTest, CopytruncateStartsAgainFromZero) {
  Append("INFO a long line of history that makes the file bigger than what follows\n");
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);
  std::filesystem::resize_file(path_, 0);  // logrotate copytruncate
  Append(kTooMany);
  std::vector<std::string> notices;
  EXPECT_EQ(Poll(*tailer, &notices), 1);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("was truncated"));
}

TEST_F(LogTailTest, AMissingFileIsReportedOnceAndReadFromItsStartWhenItAppears) {
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  std::vector<std::string> notices;
  EXPECT_EQ(Poll(*tailer, &notices), 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("does not exist"));
  EXPECT_EQ(Poll(*tailer, &notices), 0);
  EXPECT_TRUE(notices.empty());  // once
  Append(kTooMany);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer, &notices), 2);  // a new file: all of it counts
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("exists now"));
  // Removed (rotated away with no new file yet): reported once, then picked up again.
  std::filesystem::remove(path_);
  EXPECT_EQ(Poll(*tailer, &notices), 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("does not exist"));
  EXPECT_EQ(Poll(*tailer, &notices), 0);
  EXPECT_TRUE(notices.empty());
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);
}

TEST_F(LogTailTest, AFiveMegabyteLineCountsOnceAcrossPolls) {
  Append("");
  LogTailOptions options;
  options.max_read_bytes = 1 << 20;  // 1 MiB a poll: the line takes several polls
  auto tailer = Tailer(options);
  ASSERT_TRUE(tailer);
  std::string line = "ERROR Too many connections ";
  line += std::string(5 << 20, 'x');
  Append(line);
  Append("\n");
  Append(kTooMany);
  int64_t total = 0;
  for (int i = 0; i < 8; ++i) total += Poll(*tailer);
  EXPECT_EQ(total, 2);
  // A long line whose match lies past the limit is not counted (judged on its prefix only).
  std::string late(100 << 10, 'y');
  late += " Too many connections\n";
  Append(late);
  EXPECT_EQ(Poll(*tailer), 0);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);
}

TEST_F(LogTailTest, PatternsAreCheckedAndConfigurable) {
  auto bad = LogTailer::Create({{path_, "orders-primary", {"ok", "(unclosed"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_THAT(bad.error().message, HasSubstr("log_files[0].patterns[1]: \"(unclosed\""));
  auto no_target = LogTailer::Create({{path_, "", {}}});
  ASSERT_FALSE(no_target);
  EXPECT_THAT(no_target.error().message,
              HasSubstr("log_files[0] (" + path_ + "): target is empty"));

  Append("");
  auto custom = LogTailer::Create(
      {{path_, "orders-primary", {"HikariPool-\\d+ - Connection is not available"}}});
  ASSERT_TRUE(custom);
  Append("HikariPool-1 - Connection is not available, request timed out after 30000ms.\n");
  Append(kTooMany);  // not one of this file's patterns
  EXPECT_EQ(Poll(**custom), 1);
}

TEST_F(LogTailTest, ErrorsPerMinuteIsASlidingWindow) {
  Append("");
  auto tailer = Tailer();
  ASSERT_TRUE(tailer);
  Append(kTooMany);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 2);  // at t=1s
  now_ += std::chrono::seconds(29);
  Append(kTooMany);
  EXPECT_EQ(Poll(*tailer), 1);  // at t=31s
  EXPECT_EQ(tailer->ErrorsPerMinute(now_).at("orders-primary"), 3);
  EXPECT_EQ(tailer->ErrorsPerMinute(now_ + std::chrono::seconds(29)).at("orders-primary"), 3);
  EXPECT_EQ(tailer->ErrorsPerMinute(now_ + std::chrono::seconds(30)).at("orders-primary"), 1);
  EXPECT_EQ(tailer->ErrorsPerMinute(now_ + std::chrono::seconds(60)).at("orders-primary"), 0);
}

TEST_F(LogTailTest, CountsPerTargetAcrossFiles) {
  const std::string worker = dir_ + "/worker.log";
  const std::string billing = dir_ + "/billing.log";
  Append("");
  Append("", worker);
  auto tailer = LogTailer::Create(
      {{path_, "orders-primary", {}}, {worker, "orders-primary", {}}, {billing, "billing", {}}});
  ASSERT_TRUE(tailer) << tailer.error().ToString();
  Append(kTooMany);
  Append(kTooMany, worker);
  Append("ERROR Lost connection to server during query\n", billing);  // new file: counted
  now_ += std::chrono::seconds(1);
  const auto result = (*tailer)->Poll(now_);
  EXPECT_EQ(result.matches.at("orders-primary"), 2);
  EXPECT_EQ(result.matches.at("billing"), 1);
  Append(kTooMany, worker);
  now_ += std::chrono::seconds(1);
  const auto next = (*tailer)->Poll(now_);
  EXPECT_EQ(next.matches.at("orders-primary"), 1);
  EXPECT_EQ(next.matches.at("billing"), 0);  // every target, even with nothing new
  const auto rates = (*tailer)->ErrorsPerMinute(now_);
  EXPECT_EQ(rates.at("orders-primary"), 3);
  EXPECT_EQ(rates.at("billing"), 1);
}

TEST(MinuteRate, CountsTheLastSixtySeconds) {
  MinuteRate rate;
  const core::MonoTime t0{};
  rate.Add(t0 + std::chrono::seconds(10), 5);
  rate.Add(t0 + std::chrono::milliseconds(10500), 1);
  rate.Add(t0 + std::chrono::seconds(40), 2);
  EXPECT_EQ(rate.LastMinute(t0 + std::chrono::seconds(40)), 8);
  EXPECT_EQ(rate.LastMinute(t0 + std::chrono::seconds(69)), 8);
  EXPECT_EQ(rate.LastMinute(t0 + std::chrono::seconds(70)), 2);
  EXPECT_EQ(rate.LastMinute(t0 + std::chrono::seconds(100)), 0);
}

}  // namespace
}  // namespace dbrunbook::tail
