#!/usr/bin/env python3
"""Seeds a running moto_server (the AWS emulator) with what the cloud tests look at.

Runs with a Python that has boto3 and moto (the machine's python3; Debian's /usr/bin/python3
has no moto). Everything is created through boto3, as a user would with the AWS CLI:

  RDS      orders-primary-db  MySQL 8.0, db.r6g.large, Multi-AZ, parameter group orders-params
           orders-replica-db  its read replica
           orders-cluster     Aurora MySQL cluster: writer orders-aurora-1, reader orders-aurora-2
  metrics  AWS/RDS, one value a minute for the last 15 minutes (minute m = 0 is the newest):
           CPUUtilization, FreeableMemory, DatabaseConnections, ReadIOPS, WriteIOPS per instance,
           ReplicaLag for the replica, AuroraReplicaLag for the Aurora reader, and
           CPUUtilization by DBClusterIdentifier for the cluster.

Prints a JSON manifest on stdout: the RDS resources created ("rds": parameter_groups, instances
with their role, clusters with their members) and every metric value written, by metric and
dimension ("metrics"), so that tests compare dbrunbook's figures with what was put in, never
with numbers of their own.

usage: moto_seed.py --endpoint http://127.0.0.1:PORT [--region us-east-1]
"""
import argparse
import datetime
import json
import sys

import boto3

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def series(base, step, minutes=15):
    return [base + step * m for m in range(minutes)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name=args.region,
              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    rds = boto3.client("rds", **kw)
    cw = boto3.client("cloudwatch", **kw)

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    manifest = {"now": now.isoformat(), "region": args.region,
                "rds": {"parameter_groups": [], "instances": [], "clusters": []},
                "metrics": []}
    seeded = manifest["rds"]

    rds.create_db_parameter_group(DBParameterGroupName="orders-params",
                                  DBParameterGroupFamily="mysql8.0",
                                  Description="orders MySQL parameters")
    seeded["parameter_groups"].append({"name": "orders-params", "family": "mysql8.0"})
    rds.create_db_instance(DBInstanceIdentifier="orders-primary-db", DBInstanceClass="db.r6g.large",
                           Engine="mysql", EngineVersion="8.0.35", MasterUsername="admin",
                           MasterUserPassword="not-a-real-password", AllocatedStorage=100,
                           MultiAZ=True, DBParameterGroupName="orders-params")
    seeded["instances"].append({"id": "orders-primary-db", "class": "db.r6g.large",
                                "engine": "mysql", "engine_version": "8.0.35", "multi_az": True,
                                "parameter_group": "orders-params", "role": "primary"})
    rds.create_db_instance_read_replica(DBInstanceIdentifier="orders-replica-db",
                                        SourceDBInstanceIdentifier="orders-primary-db")
    seeded["instances"].append({"id": "orders-replica-db", "engine": "mysql",
                                "role": "replica", "source": "orders-primary-db"})
    rds.create_db_cluster(DBClusterIdentifier="orders-cluster", Engine="aurora-mysql",
                          EngineVersion="8.0.mysql_aurora.3.05.2", MasterUsername="admin",
                          MasterUserPassword="not-a-real-password")
    seeded["clusters"].append({"id": "orders-cluster", "engine": "aurora-mysql",
                               "engine_version": "8.0.mysql_aurora.3.05.2",
                               "members": ["orders-aurora-1", "orders-aurora-2"]})
    for name, role in (("orders-aurora-1", "writer"), ("orders-aurora-2", "reader")):
        rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.r6g.large",
                               Engine="aurora-mysql", DBClusterIdentifier="orders-cluster")
        seeded["instances"].append({"id": name, "class": "db.r6g.large",
                                    "engine": "aurora-mysql", "cluster": "orders-cluster",
                                    "role": role})

    def put(metric, unit, dim_name, dim_value, values):
        data = []
        for m, v in enumerate(values):
            # Half a minute into each minute, so a window of the last 15 minutes holds all 15.
            ts = now - datetime.timedelta(minutes=m, seconds=30)
            data.append({"MetricName": metric, "Unit": unit, "Value": float(v), "Timestamp": ts,
                         "Dimensions": [{"Name": dim_name, "Value": dim_value}]})
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=data)
        manifest["metrics"].append({"metric": metric, "unit": unit, "dimension": dim_name,
                                    "value": dim_value, "values": values})

    gib = 1024 ** 3
    for name, cpu in (("orders-primary-db", 40), ("orders-replica-db", 20)):
        put("CPUUtilization", "Percent", "DBInstanceIdentifier", name, series(cpu, 1))
        put("FreeableMemory", "Bytes", "DBInstanceIdentifier", name, series(4 * gib, -64 * 1024 ** 2))
        put("DatabaseConnections", "Count", "DBInstanceIdentifier", name, series(100, 3))
        put("ReadIOPS", "Count/Second", "DBInstanceIdentifier", name, series(500, 10))
        put("WriteIOPS", "Count/Second", "DBInstanceIdentifier", name, series(200, 5))
    put("ReplicaLag", "Seconds", "DBInstanceIdentifier", "orders-replica-db", series(2, 6))
    put("AuroraReplicaLag", "Milliseconds", "DBInstanceIdentifier", "orders-aurora-2",
        series(15, 2))
    put("CPUUtilization", "Percent", "DBClusterIdentifier", "orders-cluster", series(30, 2))

    json.dump(manifest, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
