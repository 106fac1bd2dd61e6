// The AWS CloudProvider: RDS (Query API 2014-10-31) and CloudWatch (2010-08-01) through
// AwsQueryClient (signing, retries, typed errors), with Describe* pagination (Marker) and
// GetMetricData pagination (NextToken) followed.
//
// IAM actions it calls (README, "AWS permissions"): read-only rds:DescribeDBInstances,
// rds:DescribeDBClusters, rds:DescribeEvents, rds:DescribePendingMaintenanceActions,
// rds:DescribeDBParameters,
// cloudwatch:GetMetricData; mitigation rds:ModifyDBInstance, rds:ModifyDBCluster,
// rds:ModifyDBParameterGroup, rds:PromoteReadReplica, rds:FailoverDBCluster,
// rds:RebootDBInstance.
#pragma once

#include <memory>

#include "cloud/aws_client.h"
#include "cloud/provider.h"
#include "core/environment.h"

namespace dbrunbook::cloud {

struct AwsProviderOptions {
  AwsResolverOptions resolver;  // profile, region, endpoint override
  RetryOptions retry;
  core::Duration connect_timeout = std::chrono::seconds(5);
  core::Duration request_timeout = std::chrono::seconds(30);
  std::string ca_file;  // extra CA bundle for the endpoint (empty: the system's)
};

class AwsProvider final : public CloudProvider {
 public:
  // One provider per profile/region/endpoint. `transport` carries both the API calls and the
  // metadata lookups; all references must outlive the provider.
  AwsProvider(AwsProviderOptions options, const core::Environment& environment,
              HttpTransport& transport, core::Clock& clock);
  ~AwsProvider() override;

  // A provider with its own libcurl transport and the real clock.
  static core::Result<std::unique_ptr<AwsProvider>> Create(AwsProviderOptions options,
                                                           const core::Environment& environment,
                                                           core::Clock& clock);

  core::Result<CloudStatus> Status(const CloudResource& resource) override;
  core::Result<MetricsReport> Metrics(const CloudResource& resource, std::chrono::seconds length,
                                      std::chrono::seconds period,
                                      const CloudStatus* known = nullptr) override;

  core::Result<rds::DBInstance> ModifyInstance(const rds::ModifyDBInstanceRequest& r) override;
  core::Result<rds::DBCluster> ModifyCluster(const rds::ModifyDBClusterRequest& r) override;
  core::Result<std::vector<rds::Parameter>> DescribeParameters(
      const std::string& parameter_group) override;
  core::Result<std::string> ModifyParameterGroup(
      const rds::ModifyDBParameterGroupRequest& r) override;
  core::Result<rds::DBInstance> PromoteReadReplica(
      const rds::PromoteReadReplicaRequest& r) override;
  core::Result<rds::DBCluster> FailoverCluster(
      const std::string& cluster, const std::optional<std::string>& target_instance) override;
  core::Result<rds::DBInstance> RebootInstance(const std::string& instance,
                                               bool force_failover) override;

  // The region requests go to (resolved on first use).
  core::Result<std::string> Region() { return resolver_.Region(); }
  int requests_sent() const { return rds_.requests_sent() + cloudwatch_.requests_sent(); }

 private:
  core::Result<std::vector<rds::DBInstance>> DescribeInstances(
      const rds::DescribeDBInstancesRequest& request);

  std::unique_ptr<HttpTransport> owned_transport_;
  core::Clock& clock_;
  AwsCredentialResolver resolver_;
  RetryPolicy retry_;
  Signer signer_;
  AwsQueryClient rds_;
  AwsQueryClient cloudwatch_;
};

}  // namespace dbrunbook::cloud
