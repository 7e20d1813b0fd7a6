"""DynamoDB resource-based policies end to end: PutResourcePolicy,
GetResourcePolicy and DeleteResourcePolicy with their revision ids and
errors, CreateTable's ResourcePolicy, the policy taking part in every
authorization, and a table shared with another account of the organization
through its policy and read by ARN."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, Server, create_table


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def arn(name, account=ACCOUNT):
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def client(server, creds, service="dynamodb"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"), config=Config(retries={"max_attempts": 0}))


def grant(principal, actions, resource):
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, "Resource": resource}


def test_put_get_delete_with_revision_ids(srv):
    ddb = srv.client()
    create_table(ddb, "Books")
    table = arn("Books")
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=table)
    assert err(e) == ("PolicyNotFoundException",
                      f"Resource-based policy not found for the provided ResourceArn: {table}", 400)
    policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:GetItem", table))
    rev = ddb.put_resource_policy(ResourceArn=table, Policy=policy)["RevisionId"]
    assert rev.isdigit()
    got = ddb.get_resource_policy(ResourceArn=table)
    assert (got["Policy"], got["RevisionId"]) == (policy, rev)
    # Idempotent: the same document keeps its revision.
    assert ddb.put_resource_policy(ResourceArn=table, Policy=policy)["RevisionId"] == rev
    second = doc(grant(f"arn:aws:iam::{ACCOUNT}:root", ["dynamodb:GetItem", "dynamodb:Query"], table))
    for expected in ("1", "NO_POLICY"):
        with pytest.raises(ClientError) as e:
            ddb.put_resource_policy(ResourceArn=table, Policy=second, ExpectedRevisionId=expected)
        assert err(e)[0] == "PolicyNotFoundException"
    assert ddb.get_resource_policy(ResourceArn=table)["Policy"] == policy
    rev2 = ddb.put_resource_policy(ResourceArn=table, Policy=second, ExpectedRevisionId=rev)["RevisionId"]
    assert rev2 != rev
    with pytest.raises(ClientError) as e:
        ddb.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=rev)
    assert err(e)[0] == "PolicyNotFoundException"
    assert ddb.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=rev2)["RevisionId"] == rev2
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=table)
    assert err(e)[0] == "PolicyNotFoundException"
    # Deleting nothing is fine without an expected revision, an error with one.
    assert "RevisionId" not in ddb.delete_resource_policy(ResourceArn=table)
    with pytest.raises(ClientError) as e:
        ddb.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=rev2)
    assert err(e)[0] == "PolicyNotFoundException"
    # NO_POLICY attaches only when there is none.
    assert ddb.put_resource_policy(ResourceArn=table, Policy=policy, ExpectedRevisionId="NO_POLICY")["RevisionId"]


def test_refused_documents_and_resources(srv):
    ddb = srv.client()
    create_table(ddb, "Books")
    table = arn("Books")

    def refused(policy):
        with pytest.raises(ClientError) as e:
            ddb.put_resource_policy(ResourceArn=table, Policy=policy)
        return err(e)

    code, msg, status = refused(doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table}))
    assert (code, status) == ("ValidationException", 400)
    assert msg.startswith("One or more parameter values were invalid: Invalid policy document: ")
    assert refused("not json")[0] == "ValidationException"
    # Block public access: "*" without a condition on a trusted key.
    code, msg, _ = refused(doc({"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem",
                                "Resource": table}))
    assert code == "ValidationException" and "public access" in msg
    assert refused(doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "dynamodb:*", "Resource": table,
                        "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}}}))[0] == "ValidationException"
    ddb.put_resource_policy(ResourceArn=table, Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": table,
         "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}))
    # 20 KB, whitespace included.
    big = doc(grant(f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:GetItem", table)) + " " * 20480
    assert refused(big)[0] == "ValidationException"
    assert "aws:PrincipalAccount" in ddb.get_resource_policy(ResourceArn=table)["Policy"]
    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=arn("Nope"), Policy=doc(grant(ACCOUNT, "dynamodb:GetItem", "*")))
    assert err(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn="not-an-arn")
    assert err(e)[0] == "ValidationException"


def test_create_table_with_a_resource_policy(srv):
    ddb = srv.client()
    table = arn("WithPolicy")
    policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:GetItem", table))
    create_table(ddb, "WithPolicy", ResourcePolicy=policy)
    assert ddb.get_resource_policy(ResourceArn=table)["Policy"] == policy
    with pytest.raises(ClientError) as e:
        create_table(ddb, "Public", ResourcePolicy=doc({"Effect": "Allow", "Principal": "*",
                                                         "Action": "dynamodb:*", "Resource": "*"}))
    assert err(e)[0] == "ValidationException"
    assert "Public" not in ddb.list_tables()["TableNames"]
    # CreateTable with a policy needs dynamodb:PutResourcePolicy too.
    iam = srv.client("iam")
    iam.create_user(UserName="maker")
    iam.put_user_policy(UserName="maker", PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "dynamodb:CreateTable", "Resource": "*"}))
    maker = client(srv, iam.create_access_key(UserName="maker")["AccessKey"])
    create_table(maker, "Plain")
    with pytest.raises(ClientError) as e:
        create_table(maker, "Guarded", ResourcePolicy=doc(grant(ACCOUNT, "dynamodb:GetItem", arn("Guarded"))))
    assert err(e) == ("AccessDeniedException",
                      f"User: arn:aws:iam::{ACCOUNT}:user/maker is not authorized to perform: dynamodb:PutResourcePolicy "
                      f"on resource: {arn('Guarded')} because no identity-based policy allows the "
                      f"dynamodb:PutResourcePolicy action", 400)
    assert "Guarded" not in ddb.list_tables()["TableNames"]


def test_resource_policy_grants_and_denies_in_its_own_account(srv):
    root = srv.client()
    create_table(root, "Books")
    root.put_item(TableName="Books", Item={"pk": {"S": "a"}})
    iam = srv.client("iam")
    iam.create_user(UserName="reader")
    reader_arn = f"arn:aws:iam::{ACCOUNT}:user/reader"
    reader = client(srv, iam.create_access_key(UserName="reader")["AccessKey"])
    table = arn("Books")
    with pytest.raises(ClientError) as e:
        reader.get_item(TableName="Books", Key={"pk": {"S": "a"}})
    assert err(e)[0] == "AccessDeniedException"
    # The table's policy alone grants a principal of its own account.
    root.put_resource_policy(ResourceArn=table, Policy=doc(grant(reader_arn, "dynamodb:GetItem", table)))
    assert reader.get_item(TableName="Books", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
    with pytest.raises(ClientError) as e:
        reader.put_item(TableName="Books", Item={"pk": {"S": "b"}})
    assert err(e)[0] == "AccessDeniedException"
    # An explicit deny in the policy wins over an identity allow, also for the root user,
    # who can still delete the policy.
    root.put_resource_policy(ResourceArn=table, Policy=doc(
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "dynamodb:*",
         "Resource": table}))
    with pytest.raises(ClientError) as e:
        root.get_item(TableName="Books", Key={"pk": {"S": "a"}})
    code, msg, _ = err(e)
    assert code == "AccessDeniedException"
    assert msg == (f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: dynamodb:GetItem on resource: "
                   f"{table} with an explicit deny in a resource-based policy")
    root.delete_resource_policy(ResourceArn=table)
    assert root.get_item(TableName="Books", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


def test_another_account_reads_a_shared_table_by_arn(srv):
    root = srv.client()
    orgs = srv.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    member = orgs.create_account(Email="b@example.com", AccountName="b")["CreateAccountStatus"]["AccountId"]
    create_table(root, "Shared")
    root.put_item(TableName="Shared", Item={"pk": {"S": "k"}, "v": {"S": "hello"}})
    table = arn("Shared")
    sts = srv.client("sts")
    admin = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                            RoleSessionName="b-admin")["Credentials"]
    b = client(srv, admin)
    b_arn = f"arn:aws:sts::{member}:assumed-role/OrganizationAccountAccessRole/b-admin"
    # By name, a table is looked up in the caller's own account.
    with pytest.raises(ClientError) as e:
        b.get_item(TableName="Shared", Key={"pk": {"S": "k"}})
    assert err(e)[0] == "ResourceNotFoundException"
    # By ARN, without a resource policy: B's identity policy alone is not enough.
    with pytest.raises(ClientError) as e:
        b.get_item(TableName=table, Key={"pk": {"S": "k"}})
    assert err(e) == ("AccessDeniedException",
                      f"User: {b_arn} is not authorized to perform: dynamodb:GetItem on resource: {table} "
                      f"because no resource-based policy allows the dynamodb:GetItem action", 400)
    # B cannot give itself access either.
    with pytest.raises(ClientError) as e:
        b.put_resource_policy(ResourceArn=table, Policy=doc(grant(member, "dynamodb:*", table)))
    assert err(e)[0] == "AccessDeniedException"
    # The owner grants B's role reads.
    biam = client(srv, admin, "iam")
    biam.create_role(RoleName="no-perms", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member}:root"}, "Action": "sts:AssumeRole"}))
    root.put_resource_policy(ResourceArn=table, Policy=doc(grant(
        [f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", f"arn:aws:iam::{member}:role/no-perms"],
        ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"], table)))
    assert b.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]["v"] == {"S": "hello"}
    q = b.query(TableName=table, KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": {"S": "k"}})
    assert q["Count"] == 1
    assert b.describe_table(TableName=table)["Table"]["TableArn"] == table
    # Only what the policy grants.
    with pytest.raises(ClientError) as e:
        b.put_item(TableName=table, Item={"pk": {"S": "x"}})
    assert err(e)[0] == "AccessDeniedException"
    assert "Item" not in root.get_item(TableName="Shared", Key={"pk": {"S": "x"}})
    # Named by the table's policy but allowed nothing by its own account: denied.
    bare = client(srv, client(srv, admin, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/no-perms", RoleSessionName="bare")["Credentials"])
    with pytest.raises(ClientError) as e:
        bare.get_item(TableName=table, Key={"pk": {"S": "k"}})
    assert err(e) == ("AccessDeniedException",
                      f"User: arn:aws:sts::{member}:assumed-role/no-perms/bare is not authorized to perform: "
                      f"dynamodb:GetItem on resource: {table} because no identity-based policy allows the "
                      f"dynamodb:GetItem action", 400)
