"""DynamoDB resource-based policies end to end: PutResourcePolicy,
GetResourcePolicy and DeleteResourcePolicy with their revision ids and
errors, CreateTable's ResourcePolicy, the policy taking part in every
authorization, a table shared with another account of the organization
through its policy and read by ARN, and the policies of streams (boto3 and
the AWS CLI)."""

import json
import time

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


# Streams: a policy attached to the stream ARN (…/stream/<label>), AWS's
# "Attach a resource-based policy to a DynamoDB stream".

STREAM_READS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]


def streamed_table(ddb, name):
    """Creates `name` with a stream; returns the stream's ARN."""
    out = create_table(ddb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    stream = out["TableDescription"]["LatestStreamArn"]
    assert stream.startswith(arn(name) + "/stream/")
    return stream


def not_found(arn_):
    return ("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn_} not found", 400)


def test_stream_policy_put_get_delete_with_revision_ids(srv):
    ddb = srv.client()
    stream = streamed_table(ddb, "Music")
    table_policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:GetItem", arn("Music")))
    ddb.put_resource_policy(ResourceArn=arn("Music"), Policy=table_policy)
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=stream)
    assert err(e) == ("PolicyNotFoundException",
                      f"Resource-based policy not found for the provided ResourceArn: {stream}", 400)
    policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", STREAM_READS, stream))
    rev = ddb.put_resource_policy(ResourceArn=stream, Policy=policy, ExpectedRevisionId="NO_POLICY")["RevisionId"]
    assert rev.isdigit()
    got = ddb.get_resource_policy(ResourceArn=stream)
    assert (got["Policy"], got["RevisionId"]) == (policy, rev)
    # The table keeps its own policy: two resources, two policies.
    assert ddb.get_resource_policy(ResourceArn=arn("Music"))["Policy"] == table_policy
    assert ddb.put_resource_policy(ResourceArn=stream, Policy=policy)["RevisionId"] == rev
    second = doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", "dynamodb:GetRecords", stream))
    for expected in ("NO_POLICY", "1"):
        with pytest.raises(ClientError) as e:
            ddb.put_resource_policy(ResourceArn=stream, Policy=second, ExpectedRevisionId=expected)
        assert err(e)[0] == "PolicyNotFoundException"
    rev2 = ddb.put_resource_policy(ResourceArn=stream, Policy=second, ExpectedRevisionId=rev,
                                   ConfirmRemoveSelfResourceAccess=True)["RevisionId"]
    assert rev2 != rev
    with pytest.raises(ClientError) as e:
        ddb.delete_resource_policy(ResourceArn=stream, ExpectedRevisionId=rev)
    assert err(e)[0] == "PolicyNotFoundException"
    assert ddb.delete_resource_policy(ResourceArn=stream, ExpectedRevisionId=rev2)["RevisionId"] == rev2
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=stream)
    assert err(e)[0] == "PolicyNotFoundException"
    assert "RevisionId" not in ddb.delete_resource_policy(ResourceArn=stream)
    assert ddb.get_resource_policy(ResourceArn=arn("Music"))["Policy"] == table_policy


def test_stream_policy_refusals(srv):
    ddb = srv.client()
    stream = streamed_table(ddb, "Music")
    john = f"arn:aws:iam::{ACCOUNT}:user/John"

    def refused(policy, resource=stream):
        with pytest.raises(ClientError) as e:
            ddb.put_resource_policy(ResourceArn=resource, Policy=policy)
        return err(e)

    # Only the stream reads: AWS's text for ListStreams in a stream's policy.
    assert refused(doc(grant(john, ["dynamodb:GetRecords", "dynamodb:ListStreams"], stream))) == (
        "ValidationException", "One or more parameter values were invalid: Invalid policy document: "
        'The following action names are invalid: "dynamodb:ListStreams"', 400)
    code, msg, _ = refused(doc(grant(john, ["dynamodb:GetItem", "dynamodb:PutItem"], stream)))
    assert code == "ValidationException"
    assert msg.endswith('The following action names are invalid: "dynamodb:GetItem", "dynamodb:PutItem"')
    # …and the stream actions are not a table's.
    code, msg, _ = refused(doc(grant(john, ["dynamodb:GetItem", "dynamodb:GetRecords"], arn("Music"))),
                           resource=arn("Music"))
    assert (code, msg.split(": ", 2)[-1]) == ("ValidationException",
                                              'The following action names are invalid: "dynamodb:GetRecords"')
    # Block public access and the 20 KB limit apply as to a table.
    code, msg, _ = refused(doc({"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetRecords",
                                "Resource": stream}))
    assert code == "ValidationException" and "public access" in msg
    assert refused(doc(grant(john, STREAM_READS, stream)) + " " * 20480)[0] == "ValidationException"
    # Another label of the table, another table's label, a table without a stream: not found.
    time.sleep(0.01)  # another label
    streamed_table(ddb, "Other")
    label = stream.rsplit("/", 1)[1]
    create_table(ddb, "Plain")
    for wrong in (f"{arn('Music')}/stream/2000-01-01T00:00:00.000",
                  f"{arn('Other')}/stream/{label}",
                  f"{arn('Plain')}/stream/{label}",
                  f"{arn('Nope')}/stream/{label}",
                  stream.replace(REGION, "eu-west-1")):
        assert refused(doc(grant(john, STREAM_READS, wrong)), resource=wrong) == not_found(wrong)
        with pytest.raises(ClientError) as e:
            ddb.get_resource_policy(ResourceArn=wrong)
        assert err(e) == not_found(wrong)
    # CreateTable's ResourcePolicy is the table's, never its stream's.
    with pytest.raises(ClientError) as e:
        create_table(ddb, "Both", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
                     ResourcePolicy=doc(grant(john, STREAM_READS, arn("Both") + "/stream/*")))
    assert err(e)[0] == "ValidationException"
    stream2 = streamed_table(ddb, "Both")
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=stream2)
    assert err(e)[0] == "PolicyNotFoundException"


def test_stream_policy_follows_its_stream(srv):
    ddb = srv.client()
    stream = streamed_table(ddb, "Music")
    policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", STREAM_READS, stream))
    ddb.put_resource_policy(ResourceArn=stream, Policy=policy)
    # A disabled stream keeps its policy, which can still be changed.
    ddb.update_table(TableName="Music", StreamSpecification={"StreamEnabled": False})
    assert ddb.describe_table(TableName="Music")["Table"]["LatestStreamArn"] == stream
    assert ddb.get_resource_policy(ResourceArn=stream)["Policy"] == policy
    # Enabling again makes a new stream: a new ARN, no policy; the old ARN is gone.
    time.sleep(0.01)
    new = ddb.update_table(TableName="Music", StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]["LatestStreamArn"]
    assert new != stream
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=new)
    assert err(e)[0] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=stream)
    assert err(e) == not_found(stream)
    # DeleteTable removes the stream's policy with the table; a table created
    # again under the name has a new stream without one.
    ddb.put_resource_policy(ResourceArn=new, Policy=doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", STREAM_READS,
                                                              new)))
    ddb.delete_table(TableName="Music")
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=new)
    assert err(e) == not_found(new)
    time.sleep(0.01)
    again = streamed_table(ddb, "Music")
    assert again != new
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=again)
    assert err(e)[0] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=new)
    assert err(e) == not_found(new)


def test_requests_on_a_stream_are_judged_by_the_streams_policy(srv):
    root = srv.client()
    stream = streamed_table(root, "Music")
    table = arn("Music")
    iam = srv.client("iam")
    iam.create_user(UserName="auditor")
    auditor_arn = f"arn:aws:iam::{ACCOUNT}:user/auditor"
    iam.put_user_policy(UserName="auditor", PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "dynamodb:GetResourcePolicy", "Resource": "*"}))
    auditor = client(srv, iam.create_access_key(UserName="auditor")["AccessKey"])
    root.put_resource_policy(ResourceArn=stream, Policy=doc(grant(auditor_arn, STREAM_READS, stream)))
    # The table's policy denies the auditor everything, on every resource…
    root.put_resource_policy(ResourceArn=table, Policy=doc(
        {"Effect": "Deny", "Principal": {"AWS": auditor_arn}, "Action": "dynamodb:*", "Resource": "*"}))
    with pytest.raises(ClientError) as e:
        auditor.get_resource_policy(ResourceArn=table)
    assert err(e) == ("AccessDeniedException",
                      f"User: {auditor_arn} is not authorized to perform: dynamodb:GetResourcePolicy on resource: "
                      f"{table} with an explicit deny in a resource-based policy", 400)
    # …but a request on the stream is judged by the stream's own policy.
    assert auditor.get_resource_policy(ResourceArn=stream)["Policy"] == doc(grant(auditor_arn, STREAM_READS, stream))
    # Without an identity allow, the stream's policy (stream reads only) grants nothing else.
    iam.delete_user_policy(UserName="auditor", PolicyName="p")
    with pytest.raises(ClientError) as e:
        auditor.get_resource_policy(ResourceArn=stream)
    assert err(e) == ("AccessDeniedException",
                      f"User: {auditor_arn} is not authorized to perform: dynamodb:GetResourcePolicy on resource: "
                      f"{stream} because no identity-based policy allows the dynamodb:GetResourcePolicy action", 400)


def test_stream_policy_with_the_aws_cli(srv, tmp_path):
    ddb = srv.client()
    stream = streamed_table(ddb, "MusicCollection")
    policy = doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", STREAM_READS, stream))
    path = tmp_path / "stream-policy.json"
    path.write_text(policy)
    put = json.loads(srv.cli("dynamodb", "put-resource-policy", "--resource-arn", stream,
                             "--policy", f"file://{path}").stdout)
    rev = put["RevisionId"]
    got = json.loads(srv.cli("dynamodb", "get-resource-policy", "--resource-arn", stream).stdout)
    assert got == {"Policy": policy, "RevisionId": rev}
    # A forbidden action: AWS's error.
    bad = tmp_path / "bad.json"
    bad.write_text(doc(grant(f"arn:aws:iam::{ACCOUNT}:user/John", ["dynamodb:ListStreams"], stream)))
    r = srv.cli("dynamodb", "put-resource-policy", "--resource-arn", stream, "--policy", f"file://{bad}",
                check=False)
    assert r.returncode in (254, 255), r.stderr
    assert ("An error occurred (ValidationException) when calling the PutResourcePolicy operation: One or more "
            "parameter values were invalid: Invalid policy document: The following action names are invalid: "
            '"dynamodb:ListStreams"') in r.stderr
    # A stale stream ARN.
    stale = arn("MusicCollection") + "/stream/2000-01-01T00:00:00.000"
    r = srv.cli("dynamodb", "put-resource-policy", "--resource-arn", stale, "--policy", f"file://{path}",
                check=False)
    assert r.returncode in (254, 255)
    assert f"(ResourceNotFoundException) when calling the PutResourcePolicy operation: Requested resource not " \
           f"found: ResourcArn: {stale} not found" in r.stderr
    # Revision ids: a stale expected revision is refused, the current one deletes.
    r = srv.cli("dynamodb", "delete-resource-policy", "--resource-arn", stream, "--expected-revision-id", "1",
                check=False)
    assert "(PolicyNotFoundException)" in r.stderr
    deleted = json.loads(srv.cli("dynamodb", "delete-resource-policy", "--resource-arn", stream,
                                 "--expected-revision-id", rev).stdout)
    assert deleted == {"RevisionId": rev}
    r = srv.cli("dynamodb", "get-resource-policy", "--resource-arn", stream, check=False)
    assert "(PolicyNotFoundException)" in r.stderr
    # DeleteTable takes the stream's policy with it.
    srv.cli("dynamodb", "put-resource-policy", "--resource-arn", stream, "--policy", f"file://{path}")
    srv.cli("dynamodb", "delete-table", "--table-name", "MusicCollection")
    r = srv.cli("dynamodb", "get-resource-policy", "--resource-arn", stream, check=False)
    assert "(ResourceNotFoundException)" in r.stderr
