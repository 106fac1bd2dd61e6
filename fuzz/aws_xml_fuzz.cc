// AWS Query-protocol response bodies (cloud/rds_api.h, cloud/cloudwatch_api.h) are outside
// input: whatever the configured endpoint, or a proxy in front of it, sends back. Any bytes must
// give a result or an error value without crashing, and what comes back must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/cloudwatch_api.h"
#include "cloud/query_protocol.h"
#include "cloud/rds_api.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// A failed parse is an error value that names the action.
template <typename T>
void CheckError(const dbrunbook::core::Result<T>& result, std::string_view action) {
  if (!result) Check(result.error().message.find(action) != std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rds = dbrunbook::cloud::rds;
  namespace cw = dbrunbook::cloud::cloudwatch;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  CheckError(rds::ParseDescribeDBInstancesResponse(body), "DescribeDBInstances");
  const auto clusters = rds::ParseDescribeDBClustersResponse(body);
  CheckError(clusters, "DescribeDBClusters");
  if (clusters) {
    for (const auto& c : clusters->clusters) {
      if (const auto* writer = c.Writer()) Check(writer->is_cluster_writer);
    }
  }
  CheckError(rds::ParseModifyDBInstanceResponse(body), "ModifyDBInstance");
  CheckError(rds::ParseModifyDBClusterResponse(body), "ModifyDBCluster");
  CheckError(rds::ParseModifyDBParameterGroupResponse(body), "ModifyDBParameterGroup");
  CheckError(rds::ParseDescribeDBParametersResponse(body), "DescribeDBParameters");
  CheckError(rds::ParseDescribeEventsResponse(body), "DescribeEvents");
  const auto data_result = cw::ParseGetMetricDataResponse(body);
  CheckError(data_result, "GetMetricData");
  if (data_result) {
    for (const auto& r : data_result->results) Check(r.timestamps.size() == r.values.size());
  }
  CheckError(cw::ParseGetMetricStatisticsResponse(body), "GetMetricStatistics");

  const auto error = dbrunbook::cloud::ParseAwsError("FailoverDBCluster", 400, body);
  const auto core_error = error.ToError();
  Check(core_error.message.find("FailoverDBCluster") != std::string::npos);
  Check(core_error.message.find('\x1b') == std::string::npos);
  (void)dbrunbook::cloud::ParseIso8601(body);
  return 0;
}
