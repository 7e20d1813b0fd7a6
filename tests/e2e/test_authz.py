"""Authorization on the request path: identity policies, explicit denies,
boundaries, role sessions with trust and session policies, SCPs seen from a
member account, all through boto3 as a user would."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, Server, create_table


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def client_for(server, creds, service="dynamodb"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"), config=Config(retries={"max_attempts": 0}))


@pytest.fixture
def authz_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def make_user(iam, name, *policies, boundary=None):
    kw = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_user(UserName=name, **kw)
    for i, p in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{i}", PolicyDocument=p)
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_identity_policy_allows_exactly_what_it_names(authz_server):
    root = authz_server.client()
    create_table(root, "Books")
    root.put_item(TableName="Books", Item={"pk": {"S": "a"}})
    iam = authz_server.client("iam")
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Books"
    key = make_user(iam, "reader", doc({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": table}))
    ddb = client_for(authz_server, key)
    assert ddb.get_item(TableName="Books", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Books", Item={"pk": {"S": "b"}})
    assert err(e) == ("AccessDeniedException",
                      f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: dynamodb:PutItem on resource: "
                      f"{table} because no identity-based policy allows the dynamodb:PutItem action", 400)
    assert "Item" not in root.get_item(TableName="Books", Key={"pk": {"S": "b"}})
    with pytest.raises(ClientError) as e:
        client_for(authz_server, key, "iam").create_user(UserName="nope")
    code, msg, status = err(e)
    assert (code, status) == ("AccessDenied", 403)
    assert "iam:CreateUser" in msg


def test_explicit_deny_wins_over_allow(authz_server):
    root = authz_server.client()
    create_table(root, "Secrets")
    iam = authz_server.client("iam")
    key = make_user(iam, "mixed",
                    doc({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}),
                    doc({"Sid": "NoSecrets", "Effect": "Deny", "Action": "dynamodb:*",
                         "Resource": f"arn:aws:dynamodb:*:*:table/Secrets"}))
    ddb = client_for(authz_server, key)
    assert "Secrets" in ddb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName="Secrets")
    assert err(e)[1].endswith("with an explicit deny in an identity-based policy")


def test_group_policy_and_permissions_boundary(authz_server):
    root = authz_server.client()
    create_table(root, "Tbl")
    iam = authz_server.client("iam")
    boundary = iam.create_policy(PolicyName="only-reads", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:DescribeTable"], "Resource": "*"}))["Policy"]["Arn"]
    key = make_user(iam, "bounded", boundary=boundary)
    iam.create_group(GroupName="writers")
    iam.attach_group_policy(GroupName="writers", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
    iam.add_user_to_group(GroupName="writers", UserName="bounded")
    ddb = client_for(authz_server, key)
    assert ddb.describe_table(TableName="Tbl")["Table"]["TableName"] == "Tbl"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Tbl", Item={"pk": {"S": "x"}})
    assert err(e)[1].endswith("because no permissions boundary allows the dynamodb:PutItem action")


def test_assume_role_with_trust_external_id_and_session_policy(authz_server):
    root = authz_server.client()
    create_table(root, "Orders")
    iam = authz_server.client("iam")
    key = make_user(iam, "alice", doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
                 "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}})
    role = iam.create_role(RoleName="orders-rw", AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName="orders-rw", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
    sts = client_for(authz_server, key, "sts")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert err(e)[0] == "AccessDenied"
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", ExternalId="xyz")["Credentials"]
    ddb = client_for(authz_server, creds)
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o1"}})
    who = client_for(authz_server, creds, "sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-rw/s1"
    # A session policy narrows the session to reads.
    narrow = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s2", ExternalId="xyz",
                             Policy=doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))["Credentials"]
    nd = client_for(authz_server, narrow)
    assert nd.get_item(TableName="Orders", Key={"pk": {"S": "o1"}})["Item"]["pk"] == {"S": "o1"}
    with pytest.raises(ClientError) as e:
        nd.put_item(TableName="Orders", Item={"pk": {"S": "o2"}})
    assert err(e)[1].endswith("because no session policy allows the dynamodb:PutItem action")
    # Someone the trust policy does not name cannot assume the role.
    bob = make_user(iam, "bob", doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    with pytest.raises(ClientError) as e:
        client_for(authz_server, bob, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="xx", ExternalId="xyz")
    assert err(e)[0] == "AccessDenied"


SEED_SCP = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "DenyDynamoDBOutsideVPC", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:SourceVpc": "vpc-xxxxxxxxx"},
            "StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/your-emergency-role"},
        },
    }],
}


def test_scp_restricts_a_member_account_but_not_the_management_account(authz_server):
    orgs = authz_server.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    member = orgs.create_account(Email="prod@example.com", AccountName="prod")["CreateAccountStatus"]["AccountId"]
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    pol = orgs.create_policy(Content=json.dumps(SEED_SCP), Description="seed 001", Name="vpc-only",
                             Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=pol, TargetId=member)
    # The management account reaches the member through OrganizationAccountAccessRole.
    sts = authz_server.client("sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                            RoleSessionName="ops")["Credentials"]
    assert client_for(authz_server, creds, "sts").get_caller_identity()["Account"] == member
    ddb = client_for(authz_server, creds)
    with pytest.raises(ClientError) as e:
        ddb.list_tables()
    code, msg, _ = err(e)
    assert code == "AccessDeniedException"
    assert msg.endswith("with an explicit deny in a service control policy")
    # The member's admin can create a break-glass role that the SCP exempts.
    miam = client_for(authz_server, creds, "iam")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
    miam.create_role(RoleName="your-emergency-role", AssumeRolePolicyDocument=trust)
    miam.attach_role_policy(RoleName="your-emergency-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    glass = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/your-emergency-role", RoleSessionName="bg")["Credentials"]
    assert "TableNames" in client_for(authz_server, glass).list_tables()
    # The management account itself is never restricted by SCPs.
    orgs.attach_policy(PolicyId=pol, TargetId=root_id)
    assert "TableNames" in authz_server.client().list_tables()


def test_transitive_session_tags_follow_role_chaining(authz_server):
    iam = authz_server.client("iam")
    key = make_user(iam, "chainer", doc({"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}))
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": ["sts:AssumeRole", "sts:TagSession"]})
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName="first", PolicyName="chain", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}))
    second = iam.create_role(RoleName="second", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName="second", PolicyName="team-only", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "db"}}}))
    s1 = client_for(authz_server, key, "sts").assume_role(
        RoleArn=first["Arn"], RoleSessionName="one", Tags=[{"Key": "team", "Value": "db"}],
        TransitiveTagKeys=["team"])["Credentials"]
    s2 = client_for(authz_server, s1, "sts").assume_role(RoleArn=second["Arn"], RoleSessionName="two")["Credentials"]
    assert "TableNames" in client_for(authz_server, s2).list_tables()
    with pytest.raises(ClientError) as e:
        client_for(authz_server, s1, "sts").assume_role(RoleArn=second["Arn"], RoleSessionName="three",
                                                          Tags=[{"Key": "team", "Value": "ops"}])
    assert err(e)[0] == "InvalidInput"
    # Without the transitive tag the condition fails.
    s3 = client_for(authz_server, key, "sts").assume_role(RoleArn=second["Arn"], RoleSessionName="plain")["Credentials"]
    with pytest.raises(ClientError) as e:
        client_for(authz_server, s3).list_tables()
    assert err(e)[0] == "AccessDeniedException"


def test_table_tags_drive_attribute_based_access(authz_server):
    root = authz_server.client()
    create_table(root, "prod-orders", Tags=[{"Key": "env", "Value": "prod"}])
    create_table(root, "dev-orders", Tags=[{"Key": "env", "Value": "dev"}])
    iam = authz_server.client("iam")
    key = make_user(iam, "abac", doc(
        {"Effect": "Allow", "Action": ["dynamodb:Scan", "dynamodb:TagResource"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}}},
        {"Effect": "Deny", "Action": "dynamodb:TagResource", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}}))
    ddb = client_for(authz_server, key)
    assert ddb.scan(TableName="dev-orders")["Count"] == 0
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName="prod-orders")
    assert err(e)[1].endswith("because no identity-based policy allows the dynamodb:Scan action")
    dev_arn = root.describe_table(TableName="dev-orders")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=dev_arn, Tags=[{"Key": "owner", "Value": "me"}])
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=dev_arn, Tags=[{"Key": "env", "Value": "prod"}])
    assert err(e)[1].endswith("with an explicit deny in an identity-based policy")
    tags = {t["Key"]: t["Value"] for t in root.list_tags_of_resource(ResourceArn=dev_arn)["Tags"]}
    assert tags == {"env": "dev", "owner": "me"}
