#!/usr/bin/env python3
"""Creates the IAM identity bench/run.sh measures Rampart with: the user `bench`, with one inline
identity policy that allows exactly the calls rampart-bench makes on the named tables (and their
indexes) and denies DeleteTable on every table, and a fresh access key for it.

Runs against a live Rampart with the account root's credentials from the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION). Idempotent: an existing user is kept,
its policy replaced and its old access keys deleted, so it also works on a data directory that
already holds the user.

Prints the new key as two lines, access key id then secret access key (both are letters, digits,
'/' and '+': safe inside double quotes), or as JSON with --json.

Usage: iam_identity.py --endpoint http://127.0.0.1:18002 --table bench [--table ...]
                       [--user bench] [--policy-out FILE] [--json]
"""

import argparse
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Every operation rampart-bench sends (crates/bench/src/workload.rs, `Op`): CreateTable and
# DescribeTable to prepare, BatchWriteItem to load, the rest in the workloads.
ACTIONS = [
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:BatchWriteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
]
POLICY_NAME = "bench-tables"


def policy(region: str, account: str, tables: list[str], leading_keys: str | None = None) -> dict:
    resources = []
    for t in tables:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{t}"
        resources += [arn, f"{arn}/index/*"]
    allow = {"Sid": "BenchTables", "Effect": "Allow", "Action": ACTIONS, "Resource": resources}
    if leading_keys:
        # Row-level security as in DynamoDB's fine-grained access control guide: only
        # partition keys matching the pattern (absent for table-level calls, which
        # ForAllValues lets through). Every request then builds its condition keys.
        allow["Condition"] = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_keys]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow,
            {"Sid": "NoTableDeletion", "Effect": "Deny", "Action": "dynamodb:DeleteTable",
             "Resource": "arn:aws:dynamodb:*:*:table/*"},
        ],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="Rampart's URL")
    ap.add_argument("--table", action="append", required=True, help="a table the user may use")
    ap.add_argument("--user", default="bench")
    ap.add_argument("--policy-out", help="also write the policy document to this file")
    ap.add_argument("--json", action="store_true", help="print the key as JSON")
    ap.add_argument("--leading-keys", metavar="PATTERN",
                    help="allow only partition keys matching PATTERN (dynamodb:LeadingKeys, "
                         "StringLike), e.g. 'user*' for rampart-bench's keys")
    args = ap.parse_args()

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = boto3.session.Session(region_name=region)
    config = Config(retries={"max_attempts": 3, "mode": "standard"})
    account = session.client("sts", endpoint_url=args.endpoint, config=config) \
        .get_caller_identity()["Account"]
    iam = session.client("iam", endpoint_url=args.endpoint, config=config)

    doc = policy(region, account, args.table, args.leading_keys)
    try:
        iam.create_user(UserName=args.user, Tags=[{"Key": "purpose", "Value": "bench/run.sh"}])
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    iam.put_user_policy(UserName=args.user, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(doc))
    for old in iam.list_access_keys(UserName=args.user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=args.user, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=args.user)["AccessKey"]

    if args.policy_out:
        with open(args.policy_out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    print(f"created IAM user {args.user} (arn:aws:iam::{account}:user/{args.user}), "
          f"access key {key['AccessKeyId']}, policy {POLICY_NAME} on {', '.join(args.table)}",
          file=sys.stderr)
    if args.json:
        print(json.dumps({"AccessKeyId": key["AccessKeyId"],
                          "SecretAccessKey": key["SecretAccessKey"]}))
    else:
        print(key["AccessKeyId"])
        print(key["SecretAccessKey"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
