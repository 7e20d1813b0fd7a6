"""DynamoDB's request validation, return values and capacity accounting, checked through
boto3 against exact error codes, messages and HTTP statuses. Texts are DynamoDB's as
recorded by dynalite and DynamoDB Local (see docs/compatibility.md for what is unconfirmed)."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of


def invalid(msg):
    return ("ValidationException", msg, 400)


@pytest.fixture
def table(ddb, table_name):
    create_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    return table_name


@pytest.fixture
def ranged(ddb, table_name):
    create_table(ddb, table_name, range_key=("n", "N"))
    for i in range(3):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "n": {"N": str(i)}, "v": {"S": "x" * 1000}})
    return table_name


def unchanged(ddb, table):
    return ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"] == {
        "pk": {"S": "k"}, "v": {"N": "1"}}


# --- ExpressionAttributeValues ------------------------------------------------------------

@pytest.mark.parametrize("value,why", [
    ({"N": "x"}, "The parameter cannot be converted to a numeric value: x"),
    ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
    ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
])
def test_invalid_expression_value_is_reported_with_its_key(raw, ddb, table, value, why):
    with pytest.raises(ClientError) as e:
        raw.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}},
                     ConditionExpression="v = :v", ExpressionAttributeValues={":v": value})
    assert error_of(e) == invalid(f"ExpressionAttributeValues contains invalid value: {why} for key :v")
    assert unchanged(ddb, table)


def test_expression_value_keys_must_be_well_formed(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={"v": {"N": "3"}})
    assert error_of(e) == invalid('ExpressionAttributeValues contains invalid key: Syntax error; key: "v"')
    assert unchanged(ddb, table)


def test_expression_values_without_a_condition_are_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "k"}}, ExpressionAttributeValues={":v": {"N": "1"}})
    assert error_of(e) == invalid(
        "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null")
    assert unchanged(ddb, table)


def test_expression_names_must_not_be_empty(raw, ddb, table):
    with pytest.raises(ClientError) as e:
        raw.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeNames={}, ExpressionAttributeValues={":v": {"N": "3"}})
    assert error_of(e) == invalid("ExpressionAttributeNames must not be empty")
    assert unchanged(ddb, table)


def test_legacy_and_expression_parameters_do_not_mix(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}}, ConditionExpression="attribute_exists(pk)",
                     Expected={"pk": {"Exists": True, "Value": {"S": "k"}}})
    assert error_of(e) == invalid(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")
    assert unchanged(ddb, table)


# --- Query and Scan -----------------------------------------------------------------------

def test_query_mixing_rules(ddb, ranged):
    # KeyConditions with a FilterExpression is allowed...
    r = ddb.query(TableName=ranged, KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
                  FilterExpression="v = :v", ExpressionAttributeValues={":v": {"S": "x" * 1000}})
    assert r["Count"] == 3
    # ...but not QueryFilter with a KeyConditionExpression.
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                  QueryFilter={"v": {"ComparisonOperator": "NOT_NULL"}})
    assert error_of(e) == invalid(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}")


def test_query_key_condition_types_are_checked(ddb, ranged):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"N": "1"}})
    assert error_of(e) == invalid(
        "One or more parameter values were invalid: Condition parameter type does not match schema type")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p AND begins_with(n, :n)",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "1"}})
    assert error_of(e) == invalid(
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": ""}})
    assert error_of(e) == invalid(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
        "an empty string value. Key: pk")


@pytest.mark.parametrize("kw,msg", [
    ({"Select": "COUNT", "ProjectionExpression": "v"},
     "Cannot specify the ProjectionExpression when choosing to get only the Count"),
    ({"Select": "COUNT", "AttributesToGet": ["v"]},
     "Cannot specify the AttributesToGet when choosing to get only the Count"),
    ({"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "v"},
     "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
    ({"Select": "SPECIFIC_ATTRIBUTES"},
     "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"),
    ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
     "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
])
def test_scan_select_and_projection_combinations(ddb, table, kw, msg):
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, **kw)
    assert error_of(e) == invalid(msg)


def test_select_specific_attributes_with_a_projection_works(ddb, table):
    r = ddb.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v")
    assert r["Items"] == [{"v": {"N": "1"}}]


def test_exclusive_start_key_texts(ddb, ranged):
    table = ranged + "-hash"
    create_table(ddb, table)
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, ExclusiveStartKey={"other": {"S": "k"}})
    assert error_of(e) == invalid("The provided starting key is invalid: The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, ExclusiveStartKey={"pk": {"N": "1"}})
    assert error_of(e) == invalid("The provided starting key is invalid: The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                  ExclusiveStartKey={"pk": {"S": "p"}})
    assert error_of(e) == invalid("The provided starting key is invalid")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                  ExclusiveStartKey={"pk": {"S": "q"}, "n": {"N": "1"}})
    assert error_of(e) == invalid("The provided starting key is outside query boundaries based on provided conditions")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=ranged, KeyConditionExpression="pk = :p AND n > :n",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "1"}},
                  ExclusiveStartKey={"pk": {"S": "p"}, "n": {"N": "0"}})
    assert error_of(e) == invalid("The provided starting key does not match the range key predicate")


def test_query_consumed_capacity_rounds_the_sum_once(ddb, ranged):
    # Three items of ~1 KB: 3 KB in all is one 4 KB unit, halved for an eventually consistent read.
    r = ddb.query(TableName=ranged, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                  ReturnConsumedCapacity="TOTAL")
    # Outside transactions DynamoDB returns CapacityUnits alone (no Read/WriteCapacityUnits).
    assert r["ConsumedCapacity"] == {"TableName": ranged, "CapacityUnits": 0.5}
    r = ddb.scan(TableName=ranged, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert r["ConsumedCapacity"]["Table"] == {"CapacityUnits": 1.0}
    r = ddb.put_item(TableName=ranged, Item={"pk": {"S": "q"}, "n": {"N": "9"}}, ReturnConsumedCapacity="INDEXES")
    assert r["ConsumedCapacity"] == {"TableName": ranged, "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}
    r = ddb.batch_get_item(RequestItems={ranged: {"Keys": [{"pk": {"S": "q"}, "n": {"N": "9"}}]}},
                           ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"] == [{"TableName": ranged, "CapacityUnits": 0.5}]


# --- Items --------------------------------------------------------------------------------

def nested(levels):
    v = {"S": "leaf"}
    for _ in range(levels - 1):
        v = {"M": {"n": v}}
    return v


def test_items_nested_deeper_than_32_levels_are_refused(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "d": nested(32)})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "deeper"}, "d": nested(33)})
    assert error_of(e) == invalid(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "deeper"}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET d = :d",
                        ExpressionAttributeValues={":d": nested(33)})
    assert error_of(e) == invalid(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
    assert unchanged(ddb, table)


def test_updated_old_and_new_return_only_the_nested_paths_written(ddb, table):
    key = {"pk": {"S": "nest"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}},
                                        "lst": {"L": [{"S": "x"}, {"S": "y"}]}})
    r = ddb.update_item(TableName=table, Key=key, UpdateExpression="SET a.b = :v",
                        ExpressionAttributeValues={":v": {"N": "5"}}, ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"a": {"M": {"b": {"N": "5"}}}}
    r = ddb.update_item(TableName=table, Key=key, UpdateExpression="SET a.c = :v",
                        ExpressionAttributeValues={":v": {"N": "7"}}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"a": {"M": {"c": {"N": "2"}}}}
    r = ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE lst[0]", ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"lst": {"L": [{"S": "x"}]}}
    r = ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE lst[0]", ReturnValues="UPDATED_NEW")
    assert "Attributes" not in r


def test_item_collection_metrics_for_tables_with_local_indexes(ddb, table_name):
    create_table(ddb, table_name, range_key=("sk", "S"), extra_attributes=[("l", "S")], LocalSecondaryIndexes=[{
        "IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"}}])
    r = ddb.put_item(TableName=table_name, Item={"pk": {"S": "c"}, "sk": {"S": "1"}, "l": {"S": "z"}},
                     ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == {"ItemCollectionKey": {"pk": {"S": "c"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    r = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table_name, "Item": {"pk": {"S": "c"}, "sk": {"S": "2"}}}}],
                                 ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == {table_name: [{"ItemCollectionKey": {"pk": {"S": "c"}}, "SizeEstimateRangeGB": [0.0, 1.0]}]}


# --- Batches ------------------------------------------------------------------------------

def test_batch_write_needs_one_to_25_requests_per_table(raw, table):
    with pytest.raises(ClientError) as e:
        raw.batch_write_item(RequestItems={table: []})
    assert error_of(e) == invalid(
        f"1 validation error detected: Value '{{{table}=[...]}}' at 'requestItems' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]")


def test_batch_get_needs_keys(raw, ddb, table):
    with pytest.raises(ClientError) as e:
        raw.batch_get_item(RequestItems={table: {"Keys": []}})
    assert error_of(e) == invalid(
        f"1 validation error detected: Value '[]' at 'requestItems.{table}.member.keys' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1")
    with pytest.raises(ClientError) as e:
        raw.batch_get_item(RequestItems={"x!": {"Keys": [{"pk": {"S": "k"}}]}})
    assert error_of(e) == invalid(
        "1 validation error detected: Value '{x!=[...]}' at 'requestItems' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 255, "
        "Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "k"}}, {"pk": {"S": "k"}}]}})
    assert error_of(e) == invalid("Provided list of item keys contains duplicates")


def test_batch_write_with_a_missing_put_item_names_its_path(raw, ddb, table):
    with pytest.raises(ClientError) as e:
        raw.batch_write_item(RequestItems={table: [{"PutRequest": {}}]})
    assert error_of(e) == invalid(
        f"1 validation error detected: Value null at 'requestItems.{table}.member.1.member.putRequest.item' "
        "failed to satisfy constraint: Member must not be null")
    assert unchanged(ddb, table)


# --- Transactions -------------------------------------------------------------------------

def test_transaction_item_with_two_actions_is_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{
            "Put": {"TableName": table, "Item": {"pk": {"S": "k"}}},
            "Delete": {"TableName": table, "Key": {"pk": {"S": "k"}}},
        }])
    assert error_of(e) == invalid("TransactItems can only contain one of Check, Put, Update or Delete")
    assert unchanged(ddb, table)


def test_transaction_members_are_checked_before_any_table_lookup(raw, ddb, table):
    with pytest.raises(ClientError) as e:
        raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "k"}}}},
            {"ConditionCheck": {"TableName": "no-such-table", "Key": {"pk": {"S": "k"}}}},
        ])
    assert error_of(e) == invalid(
        "1 validation error detected: Value null at 'transactItems.2.member.conditionCheck.conditionExpression' "
        "failed to satisfy constraint: Member must not be null")
    assert unchanged(ddb, table)


def test_transaction_over_4_mb_is_refused_whole(ddb, table):
    big = "x" * (390 * 1024)
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"big{i}"}, "v": {"S": big}}}} for i in range(11)]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items)
    assert error_of(e) == invalid("Transaction request cannot be larger than 4 MB")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "big0"}})


def test_transactions_cost_twice_on_tables_and_indexes(ddb, table_name):
    create_table(ddb, table_name, extra_attributes=[("g", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}])
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "c"}})
    r = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table_name, "Item": {"pk": {"S": "t"}, "g": {"S": "x"}}}},
        {"ConditionCheck": {"TableName": table_name, "Key": {"pk": {"S": "c"}}, "ConditionExpression": "attribute_exists(pk)"}},
    ], ReturnConsumedCapacity="INDEXES")
    cap = r["ConsumedCapacity"][0]
    assert cap["Table"] == {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}
    assert cap["GlobalSecondaryIndexes"] == {"gix": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}
    assert cap["CapacityUnits"] == 6.0
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table_name, "Key": {"pk": {"S": "t"}}}}],
                               ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"] == [{"TableName": table_name, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}]


# --- Tables -------------------------------------------------------------------------------

def test_update_table_with_nothing_to_do_is_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table)
    assert error_of(e) == invalid(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
        "or SSESpecification or ReplicaUpdates is required")


def test_update_table_to_provisioned_needs_throughput(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, BillingMode="PROVISIONED")
    assert error_of(e) == invalid(
        "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
    assert ddb.describe_table(TableName=table)["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_table_refuses_two_updates_of_one_index(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "gsi"}}, {"Delete": {"IndexName": "gsi"}}])
    assert error_of(e) == invalid(
        "One or more parameter values were invalid: Only one global secondary index update per index is allowed "
        "simultaneously. Index: gsi")


def test_describe_table_reports_every_setting(ddb, table_name):
    create_table(ddb, table_name, range_key=("sk", "S"), extra_attributes=[("g", "N"), ("l", "S")],
                 StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                 SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "arn:aws:kms:us-east-1:111122223333:key/k1"},
                 TableClass="STANDARD_INFREQUENT_ACCESS",
                 GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                          "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}],
                 LocalSecondaryIndexes=[{"IndexName": "lix", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                          {"AttributeName": "l", "KeyType": "RANGE"}],
                                         "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    t = ddb.describe_table(TableName=table_name)["Table"]
    arn = t["TableArn"]
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert t["LatestStreamArn"] == f"{arn}/stream/{t['LatestStreamLabel']}"
    assert t["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS",
                                   "KMSMasterKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k1"}
    assert t["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    gsi = t["GlobalSecondaryIndexes"][0]
    assert gsi == {"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                   "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}, "IndexStatus": "ACTIVE",
                   "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
                   "IndexSizeBytes": 0, "ItemCount": 0, "IndexArn": f"{arn}/index/gix"}
    lsi = t["LocalSecondaryIndexes"][0]
    assert lsi == {"IndexName": "lix", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                   "Projection": {"ProjectionType": "KEYS_ONLY"}, "IndexSizeBytes": 0, "ItemCount": 0,
                   "IndexArn": f"{arn}/index/lix"}


# --- operator counts, long chains, huge legacy maps -------------------------------------

def test_more_than_300_operators_are_refused_and_long_chains_do_not_crash(ddb, table):
    # DynamoDB's limit and text (recorded by ScyllaDB's Alternator tests): comparators, AND,
    # OR, NOT, BETWEEN and IN count; parentheses do not.
    ok = "v < :x" + " OR v < :x" * 149
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}}, ConditionExpression=ok,
                     ExpressionAttributeValues={":x": {"N": "0"}})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    over = "v < :x" + " AND v < :x" * 300
    assert len(over) < 4096
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}}, ConditionExpression=over,
                     ExpressionAttributeValues={":x": {"N": "0"}})
    assert error_of(e) == invalid(
        "Invalid ConditionExpression: The expression contains too many operators; operator count: 301")
    assert unchanged(ddb, table)
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, FilterExpression=over, ExpressionAttributeValues={":x": {"N": "0"}})
    assert error_of(e) == invalid(
        "Invalid FilterExpression: The expression contains too many operators; operator count: 301")
    # A legacy filter or Expected map is one condition however many attributes it names: twenty
    # thousand are answered, not a stack overflow.
    many = {f"a{i}": {"ComparisonOperator": "NULL"} for i in range(20000)}
    assert ddb.scan(TableName=table, ScanFilter=many)["Count"] == 1
    expected = {f"a{i}": {"Exists": False} for i in range(20000)}
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}}, Expected=expected)
    assert unchanged(ddb, table)
