// mitigate tune's rules on counters chosen by each test (two status samples 10 s apart), on
// recorded variables of real servers (MariaDB 10.11 captured here; MySQL 9.7.1, Percona Server
// 8.0.32 and 5.5.23, Aurora MySQL 2.09 from ../shared/conformance/server-outputs), the bounds
// no suggestion crosses, the SET statements the dialect builds, and the apply/verify loop over
// a fake session.
#include "steps/mitigate_tune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "dialect/tuning.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;
using ::testing::HasSubstr;

constexpr const char* kMariaDb1011 =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kMySql97 =
    "conformance/server-outputs/variables/variables--mysql-9.7.1--pt-summary-temp010.txt";
constexpr const char* kPercona80 =
    "conformance/server-outputs/variables/"
    "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kPercona80Status =
    "conformance/server-outputs/status/"
    "status--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kPercona55 =
    "conformance/server-outputs/variables/variables--percona-server-5.5.23--pt-summary.txt";
constexpr const char* kAurora209 =
    "conformance/server-outputs/variables/"
    "variables--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt";

dialect::VariableMap Recorded(const char* path, bool shared = true) {
  auto text = shared ? testing::ReadSharedFile(path) : testing::ReadSourceFile(path);
  EXPECT_TRUE(text) << path;
  return text ? testing::ParseVariables(*text) : dialect::VariableMap{};
}

using Counters = std::map<std::string, double>;

collect::StatusSample Sample(const dialect::VariableMap& base, const Counters& add, double at) {
  collect::StatusSample s;
  s.taken = core::MonoTime{} + std::chrono::milliseconds(static_cast<int64_t>(at * 1000));
  for (const auto& [k, v] : base) s.values[k] = v;
  for (const auto& [k, v] : add) {
    const double was = s.Get(k).value_or(0);
    s.values[k] = fmt::format("{:.0f}", was + v);
  }
  return s;
}

// Variables `vars` over `flavor_vars`' flavor; status `before`, then `before` + `delta` 10 s
// later.
TuneInputs Inputs(const dialect::VariableMap& flavor_vars, const dialect::VariableMap& vars,
                  const Counters& before, const Counters& delta,
                  const dialect::VariableMap& status_base = {}) {
  TuneInputs in;
  in.variables = flavor_vars;
  for (const auto& [k, v] : vars) in.variables[k] = v;
  in.flavor = dialect::DetectFlavor(in.variables);
  Counters start = before;
  for (const auto& [k, v] : delta) start.try_emplace(k, 0);  // a counter exists in both samples
  in.first = Sample(status_base, start, 0);
  Counters after = start;
  for (const auto& [k, v] : delta) after[k] += v;
  in.second = Sample(status_base, after, 10);
  return in;
}

std::optional<Advice> Find(const std::vector<Advice>& advice, std::string_view rule,
                           std::string_view variable = {}) {
  for (const auto& a : advice) {
    if (a.rule == rule && (variable.empty() || a.variable == variable)) return a;
  }
  return std::nullopt;
}

class MitigateTuneTest : public ::testing::Test {
 protected:
  dialect::VariableMap mariadb_ = Recorded(kMariaDb1011, false);
};

TEST_F(MitigateTuneTest, RecordedMariaDbIsDetected) {
  const auto flavor = dialect::DetectFlavor(mariadb_);
  ASSERT_TRUE(flavor.is_mariadb());
  EXPECT_TRUE(flavor.version.AtLeast(10, 11));
}

// --- thread cache --------------------------------------------------------------------------

TEST_F(MitigateTuneTest, ThreadCacheOfZeroGetsTheServersAutosizedValue) {
  auto in = Inputs(mariadb_, {{"thread_cache_size", "0"}, {"max_connections", "151"}},
                   {{"Threads_created", 10}}, {});
  const auto advice = Advise(in);
  auto a = Find(advice, "thread_cache_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kWarn);
  EXPECT_EQ(a->suggested, "9");  // 8 + 151 / 100
  EXPECT_TRUE(a->dynamic);
  EXPECT_TRUE(a->applicable);
  EXPECT_THAT(a->evidence, HasSubstr("0.00/s in the interval"));
}

TEST_F(MitigateTuneTest, ThreadChurnDoublesTheCacheUpTo100) {
  auto in = Inputs(mariadb_, {{"thread_cache_size", "60"}, {"max_connections", "151"}},
                   {{"Threads_created", 1000}}, {{"Threads_created", 200}});  // 20/s
  auto a = Find(Advise(in), "thread_cache_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, "100");
  EXPECT_THAT(a->evidence, HasSubstr("20.00/s"));
}

TEST_F(MitigateTuneTest, ThreadsCreatedSinceBootAloneIsNoEvidence) {
  // A huge since-boot total but nothing in the interval: not flagged (mysqltuner would be).
  auto in = Inputs(mariadb_, {{"thread_cache_size", "9"}},
                   {{"Threads_created", 5000000}, {"Uptime", 3600}}, {{"Uptime", 10}});
  EXPECT_FALSE(Find(Advise(in), "thread_cache_size"));
}

// --- buffer pool ---------------------------------------------------------------------------

TuneInputs PoolInputs(const dialect::VariableMap& flavor, double pool, int64_t data,
                      std::optional<int64_t> memory, double requests, double disk) {
  auto in =
      Inputs(flavor, {{"innodb_buffer_pool_size", fmt::format("{:.0f}", pool)}},
             {{"Innodb_buffer_pool_read_requests", 1e6}, {"Innodb_buffer_pool_reads", 1e3}},
             {{"Innodb_buffer_pool_read_requests", requests}, {"Innodb_buffer_pool_reads", disk}});
  in.innodb_data_bytes = data;
  in.data_size_source = "test";
  in.memory_bytes = memory;
  in.memory_source = "test";
  return in;
}

TEST_F(MitigateTuneTest, PoolSmallerThanDataWithMissesIsAWarningWithinMemory) {
  auto in = PoolInputs(mariadb_, 128 * kMiB, 1000 * kMiB, 16 * kGiB, 100000, 5000);
  const auto advice = Advise(in);
  auto hit = Find(advice, "buffer_pool_hit_ratio");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->severity, Level::kWarn);
  EXPECT_THAT(hit->evidence, HasSubstr("95.0% in the interval"));
  auto a = Find(advice, "buffer_pool_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kWarn);
  EXPECT_EQ(a->suggested, std::to_string(9 * 128 * kMiB));  // 1100 MiB rounded up to 1152
  EXPECT_TRUE(a->applicable);
  EXPECT_TRUE(a->dynamic);
}

TEST_F(MitigateTuneTest, PoolSmallerThanDataWithoutMissesIsInformational) {
  auto in = PoolInputs(mariadb_, 128 * kMiB, 1000 * kMiB, 16 * kGiB, 100000, 10);
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kOk);
  EXPECT_THAT(a->why, HasSubstr("headroom"));
}

TEST_F(MitigateTuneTest, PoolNeverSuggestedAbove75PercentOfMemory) {
  auto in = PoolInputs(mariadb_, 1 * kGiB, 100 * kGiB, 8 * kGiB, 100000, 5000);
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->suggested);
  EXPECT_EQ(*a->suggested, std::to_string(6 * kGiB));
  EXPECT_LE(std::stod(*a->suggested), 0.8 * 8 * kGiB);
  EXPECT_THAT(a->why, HasSubstr("limited to what memory allows"));
}

TEST_F(MitigateTuneTest, PoolIncreaseWithUnknownMemoryIsShownButNeverApplied) {
  auto in = PoolInputs(mariadb_, 128 * kMiB, 1000 * kMiB, std::nullopt, 100000, 5000);
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->suggested);
  EXPECT_FALSE(a->applicable);
  EXPECT_THAT(a->refused, HasSubstr("memory unknown"));
}

TEST_F(MitigateTuneTest, PoolAbove80PercentOfMemoryIsCutTo75) {
  auto in = PoolInputs(mariadb_, 7 * kGiB, 1 * kGiB, 8 * kGiB, 100000, 10);
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, std::to_string(6 * kGiB));
  EXPECT_TRUE(a->applicable);
  EXPECT_THAT(a->why, HasSubstr("swapping"));
}

TEST_F(MitigateTuneTest, PoolLargerThanDataIsNotAdvised) {
  auto in = PoolInputs(mariadb_, 2 * kGiB, 1 * kGiB, 16 * kGiB, 100000, 5000);
  EXPECT_FALSE(Find(Advise(in), "buffer_pool_size"));
}

TEST_F(MitigateTuneTest, CloudInstanceShortOfFreeableMemoryGetsNoIncrease) {
  // Aurora's recorded flavor, counters and memory chosen by the test.
  auto in = PoolInputs(Recorded(kAurora209), 4 * kGiB, 40 * kGiB, 16 * kGiB, 100000, 5000);
  in.parameter_groups = true;
  in.freeable_memory_bytes = 1.0 * kGiB;  // below 10% of 16 GiB
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->suggested);
  EXPECT_FALSE(a->applicable);
  EXPECT_THAT(a->refused, HasSubstr("FreeableMemory"));
}

TEST_F(MitigateTuneTest, CloudIncreaseNeverTakesMoreThanTheFreeableMemory) {
  auto in = PoolInputs(Recorded(kAurora209), 4 * kGiB, 40 * kGiB, 16 * kGiB, 100000, 5000);
  in.parameter_groups = true;
  in.freeable_memory_bytes = 4.0 * kGiB;
  auto a = Find(Advise(in), "buffer_pool_size");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->suggested);
  // 4 GiB + (4 GiB free - 1.6 GiB margin) = 6.4 GiB, down to a 128 MiB multiple.
  EXPECT_LE(std::stod(*a->suggested), 4.0 * kGiB + 4.0 * kGiB - 0.1 * 16 * kGiB);
  EXPECT_GT(std::stod(*a->suggested), 4.0 * kGiB);
  EXPECT_TRUE(a->applicable);
}

// --- connections, temporary tables, table cache ---------------------------------------------

TEST_F(MitigateTuneTest, ConnectionsNearTheLimitAndRefusals) {
  auto near = Inputs(mariadb_, {{"max_connections", "151"}}, {{"Max_used_connections", 140}}, {});
  auto a = Find(Advise(near), "max_connections");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kWarn);
  EXPECT_EQ(a->suggested, "227");
  auto refused = Inputs(mariadb_, {{"max_connections", "151"}},
                        {{"Max_used_connections", 20}, {"Connection_errors_max_connections", 3}},
                        {{"Connection_errors_max_connections", 5}});
  a = Find(Advise(refused), "max_connections");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kCritical);
  auto fine = Inputs(mariadb_, {{"max_connections", "151"}}, {{"Max_used_connections", 20}}, {});
  EXPECT_FALSE(Find(Advise(fine), "max_connections"));
}

TEST_F(MitigateTuneTest, TemporaryTablesOnDiskRaiseBothLimits) {
  auto in = Inputs(mariadb_, {{"tmp_table_size", "16777216"}, {"max_heap_table_size", "33554432"}},
                   {}, {{"Created_tmp_tables", 100}, {"Created_tmp_disk_tables", 50}});
  const auto advice = Advise(in);
  auto tmp = Find(advice, "tmp_disk_tables", "tmp_table_size");
  auto heap = Find(advice, "tmp_disk_tables", "max_heap_table_size");
  ASSERT_TRUE(tmp);
  ASSERT_TRUE(heap);
  EXPECT_EQ(tmp->suggested, std::to_string(32 * kMiB));  // twice the smaller limit
  EXPECT_EQ(heap->suggested, std::nullopt);              // already 32 MiB
  EXPECT_THAT(tmp->evidence, HasSubstr("50 of 100"));
  auto few = Inputs(mariadb_, {{"tmp_table_size", "16777216"}, {"max_heap_table_size", "16777216"}},
                    {}, {{"Created_tmp_tables", 4}, {"Created_tmp_disk_tables", 4}});
  EXPECT_FALSE(Find(Advise(few), "tmp_disk_tables"));  // too few to judge
}

TEST_F(MitigateTuneTest, TableOpenCacheMissesDoubleTheCache) {
  auto in = Inputs(mariadb_, {{"table_open_cache", "2000"}}, {{"Table_open_cache_misses", 5}},
                   {{"Table_open_cache_misses", 300}});
  auto a = Find(Advise(in), "table_open_cache");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, "4000");
  EXPECT_THAT(a->evidence, HasSubstr("30.00/s"));
}

// --- redo log, history, log waits -----------------------------------------------------------

TEST_F(MitigateTuneTest, RedoLogHoldingFewMinutesIsSizedForAnHour) {
  // 96 MiB of redo, 10 MiB/s written: under 10 seconds' worth... 9.6 s x 6 = 0.16 min.
  auto in = Inputs(mariadb_,
                   {{"innodb_log_file_size", "100663296"},
                    {"innodb_buffer_pool_size", std::to_string(64 * kGiB)}},
                   {{"Innodb_os_log_written", 1e9}}, {{"Innodb_os_log_written", 100.0 * kMiB}});
  auto a = Find(Advise(in), "redo_log_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->variable, "innodb_log_file_size");
  EXPECT_EQ(a->severity, Level::kWarn);
  EXPECT_TRUE(a->dynamic);  // MariaDB 10.11 resizes it online
  // 10 MiB/s x 3600 s = 36000 MiB, a 128 MiB multiple up.
  EXPECT_EQ(a->suggested, std::to_string(282 * 128 * kMiB));
  auto old = in;
  old.flavor = dialect::DetectFlavor({{"version", "10.6.12-MariaDB"}});
  auto b = Find(Advise(old), "redo_log_size");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->dynamic);
  EXPECT_FALSE(b->applicable);
  EXPECT_THAT(b->refused, HasSubstr("option file"));
}

TEST_F(MitigateTuneTest, RedoNeverSuggestedLargerThanTheBufferPool) {
  auto in = Inputs(mariadb_,
                   {{"innodb_log_file_size", "100663296"},
                    {"innodb_buffer_pool_size", std::to_string(1 * kGiB)}},
                   {{"Innodb_os_log_written", 1e9}}, {{"Innodb_os_log_written", 100.0 * kMiB}});
  auto a = Find(Advise(in), "redo_log_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, std::to_string(1 * kGiB));
  EXPECT_THAT(a->why, HasSubstr("Capped at the buffer pool size"));
  in.variables["innodb_log_file_size"] = std::to_string(1 * kGiB);
  a = Find(Advise(in), "redo_log_size");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->suggested);
  EXPECT_THAT(a->why, HasSubstr("raise the buffer pool first"));
}

TEST_F(MitigateTuneTest, IdleRedoIsNotAdvised) {
  auto in = Inputs(mariadb_, {{"innodb_log_file_size", "100663296"}},
                   {{"Innodb_os_log_written", 1e9}}, {});
  EXPECT_FALSE(Find(Advise(in), "redo_log_size"));
}

TEST_F(MitigateTuneTest, HistoryListIsAdviceWithoutAVariable) {
  auto in = Inputs(mariadb_, {}, {}, {});
  in.history_list_length = 150000;
  auto a = Find(Advise(in), "history_list_length");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Level::kWarn);
  EXPECT_TRUE(a->variable.empty());
  EXPECT_FALSE(a->suggested);
  in.history_list_length = 2000000;
  EXPECT_EQ(Find(Advise(in), "history_list_length")->severity, Level::kCritical);
  in.history_list_length = 50;
  EXPECT_FALSE(Find(Advise(in), "history_list_length"));
}

TEST_F(MitigateTuneTest, LogWaitsDoubleTheLogBuffer) {
  auto in = Inputs(mariadb_, {{"innodb_log_buffer_size", "16777216"}}, {{"Innodb_log_waits", 1}},
                   {{"Innodb_log_waits", 7}});
  auto a = Find(Advise(in), "log_waits");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, std::to_string(32 * kMiB));
  EXPECT_FALSE(a->dynamic);  // MariaDB: read-only at runtime
  EXPECT_FALSE(a->applicable);
}

// --- query cache ---------------------------------------------------------------------------

TEST_F(MitigateTuneTest, QueryCacheWithPrunesOnMariaDbIsTurnedOff) {
  auto in = Inputs(mariadb_, {{"query_cache_type", "ON"}, {"query_cache_size", "67108864"}}, {},
                   {{"Qcache_lowmem_prunes", 40}, {"Qcache_hits", 10}, {"Com_select", 1000}});
  auto a = Find(Advise(in), "query_cache");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, "OFF");
  EXPECT_TRUE(a->applicable);
}

TEST_F(MitigateTuneTest, NoQueryCacheAdviceOnMySql8) {
  // Recorded MySQL 9.7.1 variables (have_query_cache NO, no query_cache_type); counters moving.
  auto in = Inputs(Recorded(kMySql97), {}, {},
                   {{"Qcache_lowmem_prunes", 40}, {"Qcache_hits", 10}, {"Com_select", 1000}});
  ASSERT_TRUE(in.flavor.is_mysql_family());
  EXPECT_FALSE(Find(Advise(in), "query_cache"));
}

// --- recorded flavors ----------------------------------------------------------------------

TEST_F(MitigateTuneTest, RecordedPercona80SizesTheRedoCapacity) {
  // Percona Server 8.0.32's recorded status is the first sample; the test adds the interval.
  auto status = Recorded(kPercona80Status);
  auto in = Inputs(Recorded(kPercona80), {}, {}, {{"Innodb_os_log_written", 50.0 * kMiB}}, status);
  auto a = Find(Advise(in), "redo_log_size");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->variable, "innodb_redo_log_capacity");  // 8.0.30+: not innodb_log_file_size
  EXPECT_EQ(a->current, "104857600");
  EXPECT_TRUE(a->dynamic);
  // The since-boot total is context: the recorded 15046144 plus the interval's 50 MiB.
  EXPECT_THAT(a->evidence, HasSubstr("since boot 67474944"));
  // Its since-boot totals alone (264 disk tmp tables, 6 threads created) are no evidence.
  EXPECT_FALSE(Find(Advise(in), "tmp_disk_tables"));
  EXPECT_FALSE(Find(Advise(in), "query_cache"));
}

TEST_F(MitigateTuneTest, RecordedPercona55ThreadCacheAndStaticBufferPool) {
  auto in = PoolInputs(Recorded(kPercona55), 128 * kMiB, 1 * kGiB, 16 * kGiB, 100000, 5000);
  const auto advice = Advise(in);
  auto cache = Find(advice, "thread_cache_size");
  ASSERT_TRUE(cache);  // thread_cache_size 0 recorded
  EXPECT_EQ(cache->suggested, "9");
  // query_cache_type ON but query_cache_size 0: no query cache in use, no advice.
  EXPECT_FALSE(Find(advice, "query_cache"));
  auto pool = Find(advice, "buffer_pool_size");
  ASSERT_TRUE(pool);
  EXPECT_FALSE(pool->dynamic);  // resizable online only from MySQL 5.7.5
  EXPECT_FALSE(pool->applicable);
}

TEST_F(MitigateTuneTest, RecordedAuroraHasNoRedoAdvice) {
  auto in = Inputs(Recorded(kAurora209), {{"innodb_log_file_size", "50331648"}},
                   {{"Innodb_os_log_written", 1e9}}, {{"Innodb_os_log_written", 500.0 * kMiB}});
  ASSERT_EQ(in.flavor.platform, dialect::Platform::kAurora);
  EXPECT_FALSE(Find(Advise(in), "redo_log_size"));
}

TEST_F(MitigateTuneTest, RecordedAuroraWithoutACloudSectionIsNeverApplied) {
  auto in = Inputs(Recorded(kAurora209), {{"thread_cache_size", "0"}}, {}, {});
  const auto advice = Advise(in);
  auto a = Find(advice, "thread_cache_size");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->suggested);
  EXPECT_FALSE(a->applicable);
  EXPECT_THAT(a->refused, HasSubstr("cloud: section"));
  in.parameter_groups = true;
  EXPECT_TRUE(Find(Advise(in), "thread_cache_size")->applicable);
}

// --- memory sources ------------------------------------------------------------------------

TEST(TuneMemoryTest, InstanceClasses) {
  EXPECT_EQ(InstanceClassMemory("db.r6g.large"), 16 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.r5.24xlarge"), 768 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.m5.xlarge"), 16 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.m6g.4xlarge"), 64 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.t3.micro"), 1 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.t4g.medium"), 4 * kGiB);
  EXPECT_EQ(InstanceClassMemory("db.r4.large"), std::nullopt);  // 15.25 GiB: not by formula
  EXPECT_EQ(InstanceClassMemory("db.serverless"), std::nullopt);
  EXPECT_EQ(InstanceClassMemory("db.x2g.large"), std::nullopt);
}

TEST(TuneMemoryTest, MemTotal) {
  EXPECT_EQ(ParseMemTotal("MemTotal:       16314480 kB\nMemFree: 1 kB\n"), 16314480LL * 1024);
  EXPECT_EQ(ParseMemTotal("MemFree: 1 kB\n"), std::nullopt);
  EXPECT_EQ(ParseMemTotal(""), std::nullopt);
}

// --- dialect and apply ---------------------------------------------------------------------

TEST_F(MitigateTuneTest, SetStatementsOnlyForTunableVariablesAndPlainValues) {
  const dialect::Dialect maria(dialect::DetectFlavor(mariadb_));
  EXPECT_EQ(dialect::SetTunableVariable(maria, "thread_cache_size", "9", false),
            "SET GLOBAL thread_cache_size = 9");
  EXPECT_EQ(dialect::SetTunableVariable(maria, "read_only", "ON", false), "");
  EXPECT_EQ(dialect::SetTunableVariable(maria, "thread_cache_size", "9; DROP TABLE t", false), "");
  EXPECT_EQ(dialect::SetTunableVariable(maria, "thread_cache_size", "-1", false), "");
  EXPECT_EQ(dialect::SetTunableVariable(maria, "thread_cache_size", "9", true), "");  // no PERSIST
  const dialect::Dialect mysql(dialect::DetectFlavor(Recorded(kMySql97)));
  EXPECT_EQ(dialect::SetTunableVariable(mysql, "thread_cache_size", "16", true),
            "SET PERSIST thread_cache_size = 16");
  const dialect::Dialect aurora(dialect::DetectFlavor(Recorded(kAurora209)));
  EXPECT_EQ(dialect::SetTunableVariable(aurora, "thread_cache_size", "16", false), "");
  EXPECT_EQ(dialect::ReadTunableVariables({"thread_cache_size", "secret_var"}),
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('thread_cache_size')");
}

TEST(TuneReadBackTest, Matches) {
  EXPECT_TRUE(ReadBackMatches("thread_cache_size", "9", "9"));
  EXPECT_FALSE(ReadBackMatches("thread_cache_size", "9", "8"));
  EXPECT_TRUE(ReadBackMatches("query_cache_type", "OFF", "OFF"));
  EXPECT_TRUE(ReadBackMatches("query_cache_type", "OFF", "0"));
  EXPECT_TRUE(ReadBackMatches("innodb_buffer_pool_size", "134217728", "268435456"));
  EXPECT_FALSE(ReadBackMatches("innodb_buffer_pool_size", "268435456", "134217728"));
}

class TuneApplyTest : public MitigateTuneTest {
 protected:
  collect::TargetSession Target(std::unique_ptr<FakeSession> session) {
    return collect::TargetSession{std::move(session),
                                  dialect::Dialect(dialect::DetectFlavor(mariadb_)),
                                  mariadb_,
                                  {},
                                  {},
                                  {}};
  }
  static mysql::ResultSet Value(const std::string& name, const std::string& value) {
    return mysql::MakeResultSet({"Variable_name", "Value"}, {{name, value}});
  }
};

TEST_F(TuneApplyTest, SetVerifiedFromTheReadBack) {
  auto session = std::make_unique<FakeSession>();
  auto* fake = session.get();
  const std::string read = dialect::ReadTunableVariables({"thread_cache_size"});
  fake->On(read, Value("thread_cache_size", "0"));
  fake->On(read, Value("thread_cache_size", "9"));
  fake->On("SET GLOBAL thread_cache_size = 9", mysql::ResultSet{});
  auto target = Target(std::move(session));
  int applied = 0;
  auto out = ApplyChanges(target, {{"thread_cache_size", "9"}}, false, [&](const ChangeOutcome& o) {
    ++applied;
    EXPECT_EQ(o.previous, "0");
  });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, ChangeStatus::kVerified) << out[0].detail;
  EXPECT_EQ(out[0].previous, "0");
  EXPECT_EQ(out[0].now, "9");
  EXPECT_EQ(applied, 1);
}

TEST_F(TuneApplyTest, RefusedSetIsFailedWithTheGrantAndStopsNothingElse) {
  auto session = std::make_unique<FakeSession>();
  auto* fake = session.get();
  fake->On(dialect::ReadTunableVariables({"thread_cache_size"}), Value("thread_cache_size", "0"));
  fake->On("SET GLOBAL thread_cache_size = 9",
           FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                    "Access denied; you need (at least one of) the SUPER "
                                    "privilege(s) for this operation"));
  fake->OnPrefix("SELECT CURRENT_USER()", mysql::MakeResultSet({"account"}, {{"tuner@%"}}));
  const std::string read = dialect::ReadTunableVariables({"table_open_cache"});
  fake->On(read, Value("table_open_cache", "2000"));
  fake->On(read, Value("table_open_cache", "2000"));  // the server kept the old value
  fake->On("SET GLOBAL table_open_cache = 4000", mysql::ResultSet{});
  auto target = Target(std::move(session));
  auto out =
      ApplyChanges(target, {{"thread_cache_size", "9"}, {"table_open_cache", "4000"}}, false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status, ChangeStatus::kFailed);
  ASSERT_TRUE(out[0].error);
  EXPECT_THAT(out[0].error->hint, HasSubstr("GRANT SUPER"));
  EXPECT_EQ(out[1].status, ChangeStatus::kNotVerified);
  EXPECT_THAT(out[1].detail, HasSubstr("reads back 2000 instead of 4000"));
}

}  // namespace
}  // namespace dbrunbook::steps
