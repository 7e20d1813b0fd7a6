"""Fine-grained access control end to end: every example policy of AWS's
"Using IAM policy conditions for fine-grained access control" page and
runbook 003's two examples, attached to IAM users and exercised with boto3.
Each case has an allowed request and a denied one; a denial must carry AWS's
exact AccessDenied text and leave the table unchanged.

The policies are AWS's, with one substitution each, said where it happens:
the examples' resource ARNs name us-west-2 and account 123456789012, the test
server answers for us-east-1 and 111122223333, so the ARNs are rewritten to
the server's. Web-identity variables (${www.amazon.com:user_id},
${graph.facebook.com:id}) need AssumeRoleWithWebIdentity, which is the lead's
to wire: the same pattern is tested with ${aws:username} and
${aws:PrincipalTag/...}, and the verbatim web-identity policy is shown to deny
an IAM user (the variable does not resolve, so the statement never applies).
"""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, Server

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/GameScores"
INDEX_ARN = f"{TABLE_ARN}/index/TopScoreDateTimeIndex"


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def localize(policy: dict) -> str:
    """AWS's example with its ARNs moved to the test server's region and account."""
    text = json.dumps(policy)
    return text.replace("us-west-2", REGION).replace("123456789012", ACCOUNT)


def client(server, key, service="dynamodb"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        aws_session_token=key.get("SessionToken"), config=Config(retries={"max_attempts": 0}))


def user(server, name, policy: str, tags=None):
    iam = server.client("iam")
    iam.create_user(UserName=name, **({"Tags": tags} if tags else {}))
    iam.put_user_policy(UserName=name, PolicyName="fgac", PolicyDocument=policy)
    return client(server, iam.create_access_key(UserName=name)["AccessKey"])


def denied(excinfo, who, action, resource=TABLE_ARN):
    e = excinfo.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Code"] == "AccessDeniedException"
    assert e["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{who} is not authorized to perform: {action} on resource: "
        f"{resource} because no identity-based policy allows the {action} action")


def game_scores(root, hash_only=False, hash_key="UserId"):
    attrs = [{"AttributeName": hash_key, "AttributeType": "S"}]
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    kw = {}
    if not hash_only:
        attrs += [{"AttributeName": "GameTitle", "AttributeType": "S"},
                  {"AttributeName": "TopScoreDateTime", "AttributeType": "S"}]
        schema.append({"AttributeName": "GameTitle", "KeyType": "RANGE"})
        kw["GlobalSecondaryIndexes"] = [{
            "IndexName": "TopScoreDateTimeIndex",
            "KeySchema": [{"AttributeName": "GameTitle", "KeyType": "HASH"},
                          {"AttributeName": "TopScoreDateTime", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["Wins", "Losses", "Attempts"]},
        }]
    root.create_table(TableName="GameScores", AttributeDefinitions=attrs, KeySchema=schema,
                      BillingMode="PAY_PER_REQUEST", **kw)


def score(user_id, title="Meteor Blasters", **extra):
    item = {"UserId": {"S": user_id}, "GameTitle": {"S": title}, "TopScore": {"N": "5842"},
            "TopScoreDateTime": {"S": "2015-09-15:17:24:31"}, "Wins": {"N": "47"}, "Losses": {"N": "5"},
            "Secret": {"S": "hidden"}}
    item.update(extra)
    return item


def key(user_id, title="Meteor Blasters"):
    return {"UserId": {"S": user_id}, "GameTitle": {"S": title}}


# ---- the overview policy --------------------------------------------------------------

OVERVIEW = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "AllowAccessToOnlyItemsMatchingUserID",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                   "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"],
        "Condition": {
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"],
                "dynamodb:Attributes": ["UserId", "GameTitle", "Wins", "Losses", "TopScore", "TopScoreDateTime"],
            },
            "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
        },
    }],
}


def with_username(policy: dict) -> str:
    return localize(policy).replace("${www.amazon.com:user_id}", "${aws:username}")


def test_overview_policy_reads_only_own_items_and_listed_attributes(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("alice"))
    root.put_item(TableName="GameScores", Item=score("bob"))
    alice = user(srv, "alice", with_username(OVERVIEW))
    got = alice.get_item(TableName="GameScores", Key=key("alice"), ProjectionExpression="TopScore, Wins")
    assert got["Item"] == {"TopScore": {"N": "5842"}, "Wins": {"N": "47"}}
    # Without a projection DynamoDB selects ALL_ATTRIBUTES, which the policy refuses.
    with pytest.raises(ClientError) as e:
        alice.get_item(TableName="GameScores", Key=key("alice"))
    denied(e, "alice", "dynamodb:GetItem")
    # Another player's partition.
    with pytest.raises(ClientError) as e:
        alice.get_item(TableName="GameScores", Key=key("bob"), ProjectionExpression="TopScore")
    denied(e, "alice", "dynamodb:GetItem")
    # An attribute outside the list, even only in a projection.
    with pytest.raises(ClientError) as e:
        alice.get_item(TableName="GameScores", Key=key("alice"), ProjectionExpression="#s",
                       ExpressionAttributeNames={"#s": "Secret"})
    denied(e, "alice", "dynamodb:GetItem")
    # Writes: listed attributes in the own partition only.
    alice.put_item(TableName="GameScores", Item={"UserId": {"S": "alice"}, "GameTitle": {"S": "Galaxy"},
                                                  "Wins": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        alice.put_item(TableName="GameScores", Item={"UserId": {"S": "alice"}, "GameTitle": {"S": "Other"},
                                                      "Secret": {"S": "x"}})
    denied(e, "alice", "dynamodb:PutItem")
    assert "Item" not in root.get_item(TableName="GameScores", Key=key("alice", "Other"))
    # Query of the own partition with specific attributes only.
    q = alice.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "alice"}}, ProjectionExpression="GameTitle, Wins")
    assert q["Count"] == 2
    with pytest.raises(ClientError) as e:
        alice.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "alice"}}, Select="ALL_ATTRIBUTES")
    denied(e, "alice", "dynamodb:Query")


def test_web_identity_variable_does_not_resolve_for_an_iam_user(srv):
    """The verbatim policy: an IAM user has no www.amazon.com:user_id, so nothing is allowed."""
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("alice"))
    alice = user(srv, "alice", localize(OVERVIEW))
    with pytest.raises(ClientError) as e:
        alice.get_item(TableName="GameScores", Key=key("alice"), ProjectionExpression="TopScore")
    denied(e, "alice", "dynamodb:GetItem")


# ---- example 1: items with a specific partition key value ------------------------------

FULL_ACCESS_TO_USER_ITEMS = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "FullAccessToUserItems",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                   "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"],
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"]}},
    }],
}

READ_ONLY_ACCESS_TO_USER_ITEMS = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReadOnlyAccessToUserItems",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"],
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"]}},
    }],
}


def test_example_1_full_access_limited_to_the_callers_partition(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("bob"))
    alice = user(srv, "alice", with_username(FULL_ACCESS_TO_USER_ITEMS))
    alice.put_item(TableName="GameScores", Item=score("alice"))
    alice.update_item(TableName="GameScores", Key=key("alice"), UpdateExpression="SET Wins = :w",
                      ExpressionAttributeValues={":w": {"N": "48"}})
    assert alice.get_item(TableName="GameScores", Key=key("alice"))["Item"]["Wins"] == {"N": "48"}
    got = alice.batch_get_item(RequestItems={"GameScores": {"Keys": [key("alice"), key("alice", "Galaxy")]}})
    assert len(got["Responses"]["GameScores"]) == 1
    with pytest.raises(ClientError) as e:
        alice.delete_item(TableName="GameScores", Key=key("bob"))
    denied(e, "alice", "dynamodb:DeleteItem")
    assert "Item" in root.get_item(TableName="GameScores", Key=key("bob"))
    # One foreign partition in a batch refuses the whole batch.
    with pytest.raises(ClientError) as e:
        alice.batch_write_item(RequestItems={"GameScores": [
            {"PutRequest": {"Item": score("alice", "Second")}},
            {"DeleteRequest": {"Key": key("bob")}},
        ]})
    denied(e, "alice", "dynamodb:BatchWriteItem")
    assert "Item" not in root.get_item(TableName="GameScores", Key=key("alice", "Second"))
    assert "Item" in root.get_item(TableName="GameScores", Key=key("bob"))
    # Scan is not granted: it returns every partition.
    with pytest.raises(ClientError) as e:
        alice.scan(TableName="GameScores")
    denied(e, "alice", "dynamodb:Scan")


def test_example_1_read_only_variant(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("alice"))
    alice = user(srv, "alice", with_username(READ_ONLY_ACCESS_TO_USER_ITEMS))
    q = alice.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "alice"}})
    assert q["Count"] == 1
    with pytest.raises(ClientError) as e:
        alice.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "bob"}})
    denied(e, "alice", "dynamodb:Query")
    with pytest.raises(ClientError) as e:
        alice.update_item(TableName="GameScores", Key=key("alice"), UpdateExpression="SET Wins = :w",
                          ExpressionAttributeValues={":w": {"N": "0"}})
    denied(e, "alice", "dynamodb:UpdateItem")
    assert root.get_item(TableName="GameScores", Key=key("alice"))["Item"]["Wins"] == {"N": "47"}


def test_leading_keys_from_a_principal_tag(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("player-7"))
    policy = localize(READ_ONLY_ACCESS_TO_USER_ITEMS).replace("${www.amazon.com:user_id}",
                                                             "${aws:PrincipalTag/player}")
    carol = user(srv, "carol", policy, tags=[{"Key": "player", "Value": "player-7"}])
    assert "Item" in carol.get_item(TableName="GameScores", Key=key("player-7"))
    with pytest.raises(ClientError) as e:
        carol.get_item(TableName="GameScores", Key=key("carol"))
    denied(e, "carol", "dynamodb:GetItem")


# ---- example 2: specific attributes (also runbook 003's first example) -----------------

LIMIT_ACCESS_TO_SPECIFIC_ATTRIBUTES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "LimitAccessToSpecificAttributes",
        "Effect": "Allow",
        "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem",
                   "dynamodb:Scan"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"],
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:Attributes": ["UserId", "TopScore"]},
            "StringEqualsIfExists": {
                "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"],
            },
        },
    }],
}


def test_example_2_only_two_attributes_readable_and_writable(srv):
    # The policy lists UserId and TopScore; "you must specify the names of all of the primary
    # key ... attributes", so the table is keyed on UserId alone.
    root = srv.client()
    game_scores(root, hash_only=True)
    root.put_item(TableName="GameScores", Item={"UserId": {"S": "u1"}, "TopScore": {"N": "1"},
                                                "Wins": {"N": "3"}})
    dave = user(srv, "dave", localize(LIMIT_ACCESS_TO_SPECIFIC_ATTRIBUTES))
    got = dave.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}}, ProjectionExpression="TopScore")
    assert got["Item"] == {"TopScore": {"N": "1"}}
    out = dave.update_item(TableName="GameScores", Key={"UserId": {"S": "u1"}}, UpdateExpression="SET TopScore = :s",
                           ExpressionAttributeValues={":s": {"N": "9"}}, ReturnValues="UPDATED_OLD")
    assert out["Attributes"] == {"TopScore": {"N": "1"}}
    scanned = dave.scan(TableName="GameScores", ProjectionExpression="UserId, TopScore")
    assert scanned["Items"] == [{"UserId": {"S": "u1"}, "TopScore": {"N": "9"}}]
    # ALL_OLD would return the other attributes.
    with pytest.raises(ClientError) as e:
        dave.update_item(TableName="GameScores", Key={"UserId": {"S": "u1"}}, UpdateExpression="SET TopScore = :s",
                         ExpressionAttributeValues={":s": {"N": "0"}}, ReturnValues="ALL_OLD")
    denied(e, "dave", "dynamodb:UpdateItem")
    # A filter on another attribute is an access to it.
    with pytest.raises(ClientError) as e:
        dave.scan(TableName="GameScores", ProjectionExpression="TopScore", FilterExpression="Wins > :w",
                  ExpressionAttributeValues={":w": {"N": "0"}})
    denied(e, "dave", "dynamodb:Scan")
    # A scan without a projection selects all attributes.
    with pytest.raises(ClientError) as e:
        dave.scan(TableName="GameScores")
    denied(e, "dave", "dynamodb:Scan")
    # PutItem replaces whole items and is not granted.
    with pytest.raises(ClientError) as e:
        dave.put_item(TableName="GameScores", Item={"UserId": {"S": "u1"}, "TopScore": {"N": "0"}})
    denied(e, "dave", "dynamodb:PutItem")
    assert root.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}})["Item"] == {
        "UserId": {"S": "u1"}, "TopScore": {"N": "9"}, "Wins": {"N": "3"}}


# ---- example 3: prevent updates on certain attributes ---------------------------------

PREVENT_UPDATES_ON_CERTAIN_ATTRIBUTES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "PreventUpdatesOnCertainAttributes",
        "Effect": "Allow",
        "Action": ["dynamodb:UpdateItem"],
        "Resource": "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores",
        "Condition": {
            "ForAllValues:StringNotLike": {"dynamodb:Attributes": ["FreeGamesAvailable", "BossLevelUnlocked"]},
            "StringEquals": {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]},
        },
    }],
}


def test_example_3_updates_anything_but_the_protected_attributes(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("u1", FreeGamesAvailable={"N": "0"}))
    erin = user(srv, "erin", localize(PREVENT_UPDATES_ON_CERTAIN_ATTRIBUTES))
    # ReturnValues omitted: DynamoDB fills NONE, so StringEquals holds.
    erin.update_item(TableName="GameScores", Key=key("u1"), UpdateExpression="SET TopScore = :s",
                     ExpressionAttributeValues={":s": {"N": "6000"}})
    with pytest.raises(ClientError) as e:
        erin.update_item(TableName="GameScores", Key=key("u1"), UpdateExpression="SET FreeGamesAvailable = :f",
                         ExpressionAttributeValues={":f": {"N": "99"}})
    denied(e, "erin", "dynamodb:UpdateItem")
    with pytest.raises(ClientError) as e:
        erin.update_item(TableName="GameScores", Key=key("u1"), UpdateExpression="SET TopScore = :s",
                         ExpressionAttributeValues={":s": {"N": "1"}}, ReturnValues="ALL_NEW")
    denied(e, "erin", "dynamodb:UpdateItem")
    item = root.get_item(TableName="GameScores", Key=key("u1"))["Item"]
    assert item["TopScore"] == {"N": "6000"} and item["FreeGamesAvailable"] == {"N": "0"}


# ---- example 4: query only projected attributes of an index ---------------------------

QUERY_ONLY_PROJECTED_INDEX_ATTRIBUTES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "QueryOnlyProjectedIndexAttributes",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores/index/TopScoreDateTimeIndex"],
        "Condition": {
            "ForAllValues:StringEquals": {
                "dynamodb:Attributes": ["TopScoreDateTime", "GameTitle", "Wins", "Losses", "Attempts"]},
            "StringEquals": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
        },
    }],
}

QUERY_ALL_INDEX_ATTRIBUTES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "QueryAllIndexAttributes",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores/index/TopScoreDateTimeIndex"],
        "Condition": {"StringEquals": {"dynamodb:Select": "ALL_PROJECTED_ATTRIBUTES"}},
    }],
}

INDEX_QUERY = {"TableName": "GameScores", "IndexName": "TopScoreDateTimeIndex",
               "KeyConditionExpression": "GameTitle = :g", "ExpressionAttributeValues": {":g": {"S": "Meteor Blasters"}}}


def test_example_4_query_projected_index_attributes_only(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("u1"))
    frank = user(srv, "frank", localize(QUERY_ONLY_PROJECTED_INDEX_ATTRIBUTES))
    q = frank.query(**INDEX_QUERY, ProjectionExpression="TopScoreDateTime, Wins")
    assert q["Items"] == [{"TopScoreDateTime": {"S": "2015-09-15:17:24:31"}, "Wins": {"N": "47"}}]
    # Without a projection an index query selects ALL_PROJECTED_ATTRIBUTES.
    with pytest.raises(ClientError) as e:
        frank.query(**INDEX_QUERY)
    denied(e, "frank", "dynamodb:Query", INDEX_ARN)
    with pytest.raises(ClientError) as e:
        frank.query(**INDEX_QUERY, ProjectionExpression="UserId")
    denied(e, "frank", "dynamodb:Query", INDEX_ARN)
    # The table itself is another resource.
    with pytest.raises(ClientError) as e:
        frank.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "u1"}}, ProjectionExpression="Wins")
    denied(e, "frank", "dynamodb:Query")


def test_example_4_query_all_projected_attributes(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("u1"))
    gina = user(srv, "gina", localize(QUERY_ALL_INDEX_ATTRIBUTES))
    q = gina.query(**INDEX_QUERY)
    assert q["Count"] == 1 and "Secret" not in q["Items"][0]
    with pytest.raises(ClientError) as e:
        gina.query(**INDEX_QUERY, Select="COUNT")
    denied(e, "gina", "dynamodb:Query", INDEX_ARN)


# ---- example 5: attributes and partition key values ------------------------------------

LIMIT_ACCESS_TO_CERTAIN_ATTRIBUTES_AND_KEY_VALUES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "LimitAccessToCertainAttributesAndKeyValues",
        "Effect": "Allow",
        "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"],
        "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/GameScores",
                     "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores/index/TopScoreDateTimeIndex"],
        "Condition": {
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": ["${graph.facebook.com:id}"],
                "dynamodb:Attributes": ["attribute-A", "attribute-B"],
            },
            "StringEqualsIfExists": {
                "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"],
            },
        },
    }],
}


def test_example_5_attributes_and_partition_values_together(srv):
    # The partition key must be one of the allowed attributes: the table is keyed on attribute-A.
    root = srv.client()
    game_scores(root, hash_only=True, hash_key="attribute-A")
    own = {"attribute-A": {"S": "10152"}}
    root.put_item(TableName="GameScores", Item={**own, "attribute-B": {"S": "b"}, "attribute-C": {"S": "c"}})
    root.put_item(TableName="GameScores", Item={"attribute-A": {"S": "999"}, "attribute-B": {"S": "x"}})
    policy = localize(LIMIT_ACCESS_TO_CERTAIN_ATTRIBUTES_AND_KEY_VALUES).replace(
        "${graph.facebook.com:id}", "${aws:PrincipalTag/facebook_id}")
    hank = user(srv, "hank", policy, tags=[{"Key": "facebook_id", "Value": "10152"}])
    names = {"#a": "attribute-A", "#b": "attribute-B"}
    got = hank.get_item(TableName="GameScores", Key=own, ProjectionExpression="#b",
                        ExpressionAttributeNames={"#b": "attribute-B"})
    assert got["Item"] == {"attribute-B": {"S": "b"}}
    hank.update_item(TableName="GameScores", Key=own, UpdateExpression="SET #b = :v",
                     ExpressionAttributeNames={"#b": "attribute-B"}, ExpressionAttributeValues={":v": {"S": "b2"}},
                     ReturnValues="UPDATED_NEW")
    q = hank.query(TableName="GameScores", KeyConditionExpression="#a = :a", ProjectionExpression="#a, #b",
                   ExpressionAttributeNames=names, ExpressionAttributeValues={":a": {"S": "10152"}})
    assert q["Items"] == [{"attribute-A": {"S": "10152"}, "attribute-B": {"S": "b2"}}]
    # A conditional write on a hidden attribute.
    with pytest.raises(ClientError) as e:
        hank.update_item(TableName="GameScores", Key=own, UpdateExpression="SET #b = :v",
                         ConditionExpression="attribute_exists(#c)",
                         ExpressionAttributeNames={"#b": "attribute-B", "#c": "attribute-C"},
                         ExpressionAttributeValues={":v": {"S": "zz"}})
    denied(e, "hank", "dynamodb:UpdateItem")
    # Another user's partition.
    with pytest.raises(ClientError) as e:
        hank.get_item(TableName="GameScores", Key={"attribute-A": {"S": "999"}}, ProjectionExpression="#b",
                      ExpressionAttributeNames={"#b": "attribute-B"})
    denied(e, "hank", "dynamodb:GetItem")
    assert root.get_item(TableName="GameScores", Key=own)["Item"]["attribute-B"] == {"S": "b2"}


# ---- runbook 003, verbatim ------------------------------------------------------------

RUNBOOK_003_EXAMPLE_1 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "LimitAccessToSpecificAttributes",
            "Effect": "Allow",
            "Action": [
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:Scan"
            ],
            "Resource": [
                "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"
            ],
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:Attributes": [
                        "UserId",
                        "TopScore"
                    ]
                },
                "StringEqualsIfExists": {
                    "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                    "dynamodb:ReturnValues": [
                        "NONE",
                        "UPDATED_OLD",
                        "UPDATED_NEW"
                    ]
                }
            }
        }
    ]
}

RUNBOOK_003_EXAMPLE_2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FullAccessToUserItems",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem"
            ],
            "Resource": [
                "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"
            ],
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": [
                        "${www.amazon.com:user_id}"
                    ]
                }
            }
        }
    ]
}


def test_runbook_003_attributes_select_and_return_values(srv):
    root = srv.client()
    game_scores(root, hash_only=True)
    root.put_item(TableName="GameScores", Item={"UserId": {"S": "p1"}, "TopScore": {"N": "10"},
                                                "CreditCard": {"S": "4111"}})
    ivy = user(srv, "ivy", localize(RUNBOOK_003_EXAMPLE_1))
    got = ivy.batch_get_item(RequestItems={"GameScores": {"Keys": [{"UserId": {"S": "p1"}}],
                                                          "ProjectionExpression": "UserId, TopScore"}})
    assert got["Responses"]["GameScores"] == [{"UserId": {"S": "p1"}, "TopScore": {"N": "10"}}]
    ivy.update_item(TableName="GameScores", Key={"UserId": {"S": "p1"}}, UpdateExpression="SET TopScore = :s",
                    ExpressionAttributeValues={":s": {"N": "11"}}, ReturnValues="UPDATED_NEW")
    with pytest.raises(ClientError) as e:
        ivy.get_item(TableName="GameScores", Key={"UserId": {"S": "p1"}}, ProjectionExpression="CreditCard")
    denied(e, "ivy", "dynamodb:GetItem")
    with pytest.raises(ClientError) as e:
        ivy.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                  ExpressionAttributeValues={":u": {"S": "p1"}})
    denied(e, "ivy", "dynamodb:Query")
    with pytest.raises(ClientError) as e:
        ivy.update_item(TableName="GameScores", Key={"UserId": {"S": "p1"}}, UpdateExpression="SET TopScore = :s",
                        ExpressionAttributeValues={":s": {"N": "0"}}, ReturnValues="ALL_NEW")
    denied(e, "ivy", "dynamodb:UpdateItem")
    assert root.get_item(TableName="GameScores", Key={"UserId": {"S": "p1"}})["Item"]["TopScore"] == {"N": "11"}


def test_runbook_003_leading_keys_per_user(srv):
    root = srv.client()
    game_scores(root)
    root.put_item(TableName="GameScores", Item=score("bob"))
    # The web-identity variable, for an IAM user: unresolved, so nothing is allowed.
    verbatim = user(srv, "jack", localize(RUNBOOK_003_EXAMPLE_2))
    with pytest.raises(ClientError) as e:
        verbatim.put_item(TableName="GameScores", Item=score("jack"))
    denied(e, "jack", "dynamodb:PutItem")
    # The same pattern keyed on the IAM user name.
    kim = user(srv, "kim", with_username(RUNBOOK_003_EXAMPLE_2))
    kim.put_item(TableName="GameScores", Item=score("kim"))
    kim.delete_item(TableName="GameScores", Key=key("kim"))
    with pytest.raises(ClientError) as e:
        kim.update_item(TableName="GameScores", Key=key("bob"), UpdateExpression="SET Wins = :w",
                        ExpressionAttributeValues={":w": {"N": "0"}})
    denied(e, "kim", "dynamodb:UpdateItem")
    assert root.get_item(TableName="GameScores", Key=key("bob"))["Item"]["Wins"] == {"N": "47"}
    assert "Item" not in root.get_item(TableName="GameScores", Key=key("jack"))


# ---- the other keys -------------------------------------------------------------------

def test_return_consumed_capacity_and_enclosing_operation(srv):
    root = srv.client()
    game_scores(root, hash_only=True)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadWithoutPerIndexCapacity", "Effect": "Allow", "Action": "dynamodb:GetItem",
         "Resource": TABLE_ARN,
         "Condition": {"StringEqualsIfExists": {"dynamodb:ReturnConsumedCapacity": ["NONE", "TOTAL"]}}},
        {"Sid": "WritesOnlyInTransactions", "Effect": "Allow", "Action": "dynamodb:PutItem",
         "Resource": TABLE_ARN,
         "Condition": {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}},
    ]})
    lee = user(srv, "lee", policy)
    lee.transact_write_items(TransactItems=[{"Put": {"TableName": "GameScores",
                                                     "Item": {"UserId": {"S": "t1"}}}}])
    assert lee.get_item(TableName="GameScores", Key={"UserId": {"S": "t1"}},
                        ReturnConsumedCapacity="TOTAL")["Item"] == {"UserId": {"S": "t1"}}
    with pytest.raises(ClientError) as e:
        lee.get_item(TableName="GameScores", Key={"UserId": {"S": "t1"}}, ReturnConsumedCapacity="INDEXES")
    denied(e, "lee", "dynamodb:GetItem")
    with pytest.raises(ClientError) as e:
        lee.put_item(TableName="GameScores", Item={"UserId": {"S": "t2"}})
    denied(e, "lee", "dynamodb:PutItem")
    assert "Item" not in root.get_item(TableName="GameScores", Key={"UserId": {"S": "t2"}})
    # TransactGetItems members are GetItem; TransactWriteItems needs each member's action.
    got = lee.transact_get_items(TransactItems=[{"Get": {"TableName": "GameScores",
                                                         "Key": {"UserId": {"S": "t1"}}}}])
    assert got["Responses"][0]["Item"] == {"UserId": {"S": "t1"}}
    with pytest.raises(ClientError) as e:
        lee.transact_write_items(TransactItems=[
            {"Put": {"TableName": "GameScores", "Item": {"UserId": {"S": "t3"}}}},
            {"Delete": {"TableName": "GameScores", "Key": {"UserId": {"S": "t1"}}}},
        ])
    denied(e, "lee", "dynamodb:DeleteItem")
    assert "Item" not in root.get_item(TableName="GameScores", Key={"UserId": {"S": "t3"}})
    assert "Item" in root.get_item(TableName="GameScores", Key={"UserId": {"S": "t1"}})


# ---- a condition without a set qualifier on a multivalued key --------------------------

def test_unqualified_operator_on_multivalued_keys_never_matches(srv):
    # AWS was observed to treat `StringEquals` on dynamodb:Attributes (no ForAnyValue:) as never
    # matching: such a Deny protects nothing, such an Allow grants nothing. The column deny list
    # that works is ForAnyValue:StringEquals.
    root = srv.client()
    game_scores(root, hash_only=True)
    root.put_item(TableName="GameScores", Item={"UserId": {"S": "u1"}, "Secret": {"S": "hidden"},
                                                "Wins": {"N": "3"}})
    allow_all = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN}

    def deny_secret(op):
        return json.dumps({"Version": "2012-10-17", "Statement": [allow_all, {
            "Effect": "Deny", "Action": "dynamodb:*", "Resource": TABLE_ARN,
            "Condition": {op: {"dynamodb:Attributes": ["Secret"]}}}]})

    bare = user(srv, "bare", deny_secret("StringEquals"))
    for projection in ["Secret", "Secret, Wins"]:
        got = bare.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}},
                            ProjectionExpression=projection)
        assert got["Item"]["Secret"] == {"S": "hidden"}

    listed = user(srv, "listed", deny_secret("ForAnyValue:StringEquals"))
    for projection in ["Secret", "Wins, #s"]:
        with pytest.raises(ClientError) as e:
            listed.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}},
                            ProjectionExpression=projection,
                            **({"ExpressionAttributeNames": {"#s": "Secret"}} if "#s" in projection else {}))
        err = e.value.response["Error"]
        assert err["Code"] == "AccessDeniedException"
        assert err["Message"] == (
            f"User: arn:aws:iam::{ACCOUNT}:user/listed is not authorized to perform: dynamodb:GetItem on "
            f"resource: {TABLE_ARN} with an explicit deny in an identity-based policy")
    assert listed.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}},
                           ProjectionExpression="Wins")["Item"] == {"Wins": {"N": "3"}}

    # An Allow keyed on the caller's partition with a bare StringEquals grants nothing, even for
    # the caller's own (single) leading key.
    own = user(srv, "u1", json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN,
        "Condition": {"StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}}]}))
    with pytest.raises(ClientError) as e:
        own.get_item(TableName="GameScores", Key={"UserId": {"S": "u1"}})
    denied(e, "u1", "dynamodb:GetItem")
