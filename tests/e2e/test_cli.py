"""Every DynamoDB operation through the AWS CLI, exactly as a user types it: each works, and
each refuses a bad input with DynamoDB's error (type and message) and changes nothing, which a
read afterwards checks. DescribeEndpoints and DescribeLimits take no input, so they have no bad
input to send."""

import json

import pytest

from conftest import ACCOUNT, REGION


def ok(server, *args):
    r = server.cli("dynamodb", *args)
    return json.loads(r.stdout) if r.stdout.strip() else {}


def fails(server, op_cli, op, code, message, *args):
    """Runs `aws dynamodb <op_cli> …`, which must fail with DynamoDB's error."""
    r = server.cli("dynamodb", op_cli, *args, check=False)
    assert r.returncode in (254, 255), r.stderr  # service error (CLI v2: 254, v1: 255)
    assert r.stderr.strip() == f"An error occurred ({code}) when calling the {op} operation: {message}"


def j(v):
    return json.dumps(v)


@pytest.fixture
def table(server, table_name):
    ok(server, "create-table", "--table-name", table_name,
       "--attribute-definitions", "AttributeName=pk,AttributeType=S",
       "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    ok(server, "put-item", "--table-name", table_name, "--item", j({"pk": {"S": "k"}, "v": {"N": "1"}}))
    return table_name


def item(server, table, key="k"):
    return ok(server, "get-item", "--table-name", table, "--key", j({"pk": {"S": key}}),
              "--consistent-read").get("Item")


ORIGINAL = {"pk": {"S": "k"}, "v": {"N": "1"}}


def test_cli_create_table_refuses_undefined_key_attribute(server, table_name):
    fails(server, "create-table", "CreateTable", "ValidationException",
          "One or more parameter values were invalid: Some index key attributes are not defined in "
          "AttributeDefinitions. Keys: [b], AttributeDefinitions: [a]",
          "--table-name", table_name, "--attribute-definitions", "AttributeName=a,AttributeType=S",
          "--key-schema", "AttributeName=b,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    assert table_name not in ok(server, "list-tables")["TableNames"]


def test_cli_describe_table(server, table):
    t = ok(server, "describe-table", "--table-name", table)["Table"]
    assert t["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    assert t["ItemCount"] == 1
    fails(server, "describe-table", "DescribeTable", "ResourceNotFoundException",
          f"Requested resource not found: Table: {table}-gone not found", "--table-name", table + "-gone")


def test_cli_update_table(server, table):
    t = ok(server, "update-table", "--table-name", table, "--deletion-protection-enabled")["TableDescription"]
    assert t["DeletionProtectionEnabled"] is True
    fails(server, "update-table", "UpdateTable", "ValidationException",
          "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
          "--table-name", table, "--billing-mode", "PROVISIONED")
    t = ok(server, "describe-table", "--table-name", table)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_cli_delete_table(server, table):
    ok(server, "update-table", "--table-name", table, "--deletion-protection-enabled")
    fails(server, "delete-table", "DeleteTable", "ValidationException",
          "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
          "--table-name", table)
    assert item(server, table) == ORIGINAL
    ok(server, "update-table", "--table-name", table, "--no-deletion-protection-enabled")
    assert ok(server, "delete-table", "--table-name", table)["TableDescription"]["TableStatus"] == "DELETING"
    assert table not in ok(server, "list-tables")["TableNames"]


def test_cli_list_tables(server, table):
    assert table in ok(server, "list-tables")["TableNames"]
    fails(server, "list-tables", "ListTables", "ValidationException",
          "1 validation error detected: Value 'a;b' at 'exclusiveStartTableName' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
          "--exclusive-start-table-name", "a;b", "--no-paginate")


def test_cli_describe_endpoints_and_limits(server):
    assert ok(server, "describe-endpoints")["Endpoints"] == [
        {"Address": f"dynamodb.{REGION}.amazonaws.com", "CachePeriodInMinutes": 1440}]
    limits = ok(server, "describe-limits")
    assert limits["TableMaxReadCapacityUnits"] == 40000


def test_cli_put_item(server, table):
    ok(server, "put-item", "--table-name", table, "--item", j({"pk": {"S": "n"}}))
    assert item(server, table, "n") == {"pk": {"S": "n"}}
    fails(server, "put-item", "PutItem", "ValidationException", "ReturnValues can only be ALL_OLD or NONE",
          "--table-name", table, "--item", j({"pk": {"S": "k"}, "v": {"N": "9"}}), "--return-values", "ALL_NEW")
    assert item(server, table) == ORIGINAL


def test_cli_get_item(server, table):
    assert item(server, table) == ORIGINAL
    fails(server, "get-item", "GetItem", "ValidationException",
          "The provided key element does not match the schema",
          "--table-name", table, "--key", j({"pk": {"N": "1"}}))


def test_cli_update_item(server, table):
    r = ok(server, "update-item", "--table-name", table, "--key", j({"pk": {"S": "u"}}),
           "--update-expression", "SET v = :v", "--expression-attribute-values", j({":v": {"N": "2"}}),
           "--return-values", "ALL_NEW")
    assert r["Attributes"] == {"pk": {"S": "u"}, "v": {"N": "2"}}
    fails(server, "update-item", "UpdateItem", "ValidationException",
          "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: x for key :v",
          "--table-name", table, "--key", j({"pk": {"S": "k"}}), "--update-expression", "SET v = :v",
          "--expression-attribute-values", j({":v": {"N": "x"}}))
    assert item(server, table) == ORIGINAL


def test_cli_delete_item(server, table):
    fails(server, "delete-item", "DeleteItem", "ConditionalCheckFailedException", "The conditional request failed",
          "--table-name", table, "--key", j({"pk": {"S": "k"}}), "--condition-expression", "v = :two",
          "--expression-attribute-values", j({":two": {"N": "2"}}))
    assert item(server, table) == ORIGINAL
    r = ok(server, "delete-item", "--table-name", table, "--key", j({"pk": {"S": "k"}}), "--return-values", "ALL_OLD")
    assert r["Attributes"] == ORIGINAL
    assert item(server, table) is None


def test_cli_query(server, table):
    r = ok(server, "query", "--table-name", table, "--key-condition-expression", "pk = :p",
           "--expression-attribute-values", j({":p": {"S": "k"}}))
    assert r["Items"] == [ORIGINAL]
    fails(server, "query", "Query", "ValidationException",
          "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
          "--table-name", table)


def test_cli_scan(server, table):
    assert ok(server, "scan", "--table-name", table)["Count"] == 1
    fails(server, "scan", "Scan", "ValidationException",
          "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
          "--table-name", table, "--segment", "1")


def test_cli_batch_get_item(server, table):
    r = ok(server, "batch-get-item", "--request-items", j({table: {"Keys": [{"pk": {"S": "k"}}]}}))
    assert r["Responses"][table] == [ORIGINAL]
    fails(server, "batch-get-item", "BatchGetItem", "ValidationException",
          "Provided list of item keys contains duplicates",
          "--request-items", j({table: {"Keys": [{"pk": {"S": "k"}}, {"pk": {"S": "k"}}]}}))


def test_cli_batch_write_item(server, table):
    r = ok(server, "batch-write-item", "--request-items",
           j({table: [{"PutRequest": {"Item": {"pk": {"S": "b1"}}}}]}))
    assert r["UnprocessedItems"] == {}
    assert item(server, table, "b1") == {"pk": {"S": "b1"}}
    too_many = [{"PutRequest": {"Item": {"pk": {"S": f"x{i}"}}}} for i in range(26)]
    fails(server, "batch-write-item", "BatchWriteItem", "ValidationException",
          f"1 validation error detected: Value '{{{table}=[...]}}' at 'requestItems' failed to satisfy constraint: "
          "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
          "Member must have length greater than or equal to 1]",
          "--request-items", j({table: too_many}))
    assert item(server, table, "x0") is None


def test_cli_transact_get_items(server, table):
    get = {"Get": {"TableName": table, "Key": {"pk": {"S": "k"}}}}
    assert ok(server, "transact-get-items", "--transact-items", j([get]))["Responses"] == [{"Item": ORIGINAL}]
    fails(server, "transact-get-items", "TransactGetItems", "ValidationException",
          "Transaction request cannot include multiple operations on one item",
          "--transact-items", j([get, get]))


def test_cli_transact_write_items(server, table):
    ok(server, "transact-write-items", "--transact-items",
       j([{"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}}]))
    assert item(server, table, "t1") == {"pk": {"S": "t1"}}
    fails(server, "transact-write-items", "TransactWriteItems", "TransactionCanceledException",
          "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
          "--transact-items", j([
              {"Put": {"TableName": table, "Item": {"pk": {"S": "t2"}}}},
              {"Update": {"TableName": table, "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET v = :n",
                          "ConditionExpression": "v = :n", "ExpressionAttributeValues": {":n": {"N": "5"}}}},
          ]))
    assert item(server, table, "t2") is None
    assert item(server, table) == ORIGINAL


def test_cli_time_to_live(server, table):
    r = ok(server, "update-time-to-live", "--table-name", table,
           "--time-to-live-specification", "Enabled=true,AttributeName=exp")
    assert r["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    fails(server, "update-time-to-live", "UpdateTimeToLive", "ValidationException", "TimeToLive is already enabled",
          "--table-name", table, "--time-to-live-specification", "Enabled=true,AttributeName=other")
    d = ok(server, "describe-time-to-live", "--table-name", table)["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    fails(server, "describe-time-to-live", "DescribeTimeToLive", "ResourceNotFoundException",
          f"Requested resource not found: Table: {table}-gone not found", "--table-name", table + "-gone")


def test_cli_tags(server, table):
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    ok(server, "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=prod", "Key=team,Value=db")
    fails(server, "tag-resource", "TagResource", "ValidationException",
          "Invalid TableArn: Invalid ResourceArn provided as input not-an-arn",
          "--resource-arn", "not-an-arn", "--tags", "Key=env,Value=dev")
    ok(server, "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    gone = arn + "-gone"
    fails(server, "untag-resource", "UntagResource", "ResourceNotFoundException",
          f"Requested resource not found: ResourcArn: {gone} not found",
          "--resource-arn", gone, "--tag-keys", "env")
    assert ok(server, "list-tags-of-resource", "--resource-arn", arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    fails(server, "list-tags-of-resource", "ListTagsOfResource", "ResourceNotFoundException",
          f"Requested resource not found: ResourcArn: {gone} not found", "--resource-arn", gone)
