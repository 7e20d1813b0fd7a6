"""Table lifecycle through boto3 and the AWS CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, create_table


def error_of(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def test_seed_create_table_command_exactly_as_typed(server):
    r = server.cli(
        "dynamodb", "create-table", "--table-name", "BookCollection",
        "--attribute-definitions", "AttributeName=Author,AttributeType=S",
        "AttributeName=BookTitle,AttributeType=S",
        "--key-schema", "AttributeName=Author,KeyType=HASH", "AttributeName=BookTitle,KeyType=RANGE",
        "--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5",
    )
    d = json.loads(r.stdout)["TableDescription"]
    assert d["TableName"] == "BookCollection"
    assert d["TableStatus"] == "CREATING"
    assert d["AttributeDefinitions"] == [
        {"AttributeName": "Author", "AttributeType": "S"},
        {"AttributeName": "BookTitle", "AttributeType": "S"},
    ]
    assert d["KeySchema"] == [
        {"AttributeName": "Author", "KeyType": "HASH"},
        {"AttributeName": "BookTitle", "KeyType": "RANGE"},
    ]
    assert d["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0, "ReadCapacityUnits": 5, "WriteCapacityUnits": 5,
    }
    assert d["TableSizeBytes"] == 0 and d["ItemCount"] == 0
    assert d["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/BookCollection"
    assert len(d["TableId"]) == 36
    assert d["DeletionProtectionEnabled"] is False
    assert "CreationDateTime" in d
    server.cli("dynamodb", "wait", "table-exists", "--table-name", "BookCollection")
    listed = json.loads(server.cli("dynamodb", "list-tables").stdout)
    assert "BookCollection" in listed["TableNames"]
    again = server.cli(
        "dynamodb", "create-table", "--table-name", "BookCollection",
        "--attribute-definitions", "AttributeName=Author,AttributeType=S",
        "--key-schema", "AttributeName=Author,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST", check=False,
    )
    assert again.returncode != 0
    assert "ResourceInUseException" in again.stderr
    assert "Table already exists: BookCollection" in again.stderr


def test_describe_table_reports_status_and_counts(ddb, table_name):
    create_table(ddb, table_name, range_key=("sk", "N"))
    ddb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
    for i in range(3):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "sk": {"N": str(i)}})
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert t["ItemCount"] == 3
    assert t["TableSizeBytes"] > 0
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_describe_missing_table_is_resource_not_found(ddb):
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="nope-not-here")
    assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found: Table: nope-not-here not found")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invalid_table_name_gets_validation_text(ddb):
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="a;")
    code, msg = error_of(e)
    assert code == "ValidationException"
    assert msg == (
        "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' "
        "failed to satisfy constraint: Member must have length greater than or equal to 3"
    )


def test_create_table_key_schema_errors_change_nothing(ddb, table_name):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "b", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    code, msg = error_of(e)
    assert code == "ValidationException"
    assert msg.startswith("One or more parameter values were invalid: Some index key attributes are not defined")
    assert table_name not in ddb.list_tables()["TableNames"]


def test_list_tables_paginates(ddb, table_name):
    names = [f"{table_name}-{i}" for i in range(5)]
    for n in names:
        create_table(ddb, n)
    seen = []
    kw = {"Limit": 2}
    while True:
        page = ddb.list_tables(**kw)
        seen.extend(page["TableNames"])
        assert len(page["TableNames"]) <= 2
        if "LastEvaluatedTableName" not in page:
            break
        kw["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    assert [n for n in seen if n.startswith(table_name)] == sorted(names)
    assert seen == sorted(seen)


def test_deletion_protection_refuses_delete_until_disabled(ddb, table_name):
    create_table(ddb, table_name, DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=table_name)
    assert error_of(e)[0] == "ValidationException"
    assert "protected against deletion" in error_of(e)[1]
    ddb.update_table(TableName=table_name, DeletionProtectionEnabled=False)
    d = ddb.delete_table(TableName=table_name)["TableDescription"]
    assert d["TableStatus"] == "DELETING"
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_deleted_table_name_can_be_reused_empty(ddb, table_name):
    create_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "x"}})
    ddb.delete_table(TableName=table_name)
    create_table(ddb, table_name)
    assert ddb.scan(TableName=table_name)["Count"] == 0


def test_update_table_throughput_and_billing(ddb, table_name):
    create_table(ddb, table_name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    ddb.update_table(TableName=table_name, ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3})
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    ddb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_table_adds_gsi_with_backfill(ddb, table_name):
    create_table(ddb, table_name)
    for i in range(20):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": f"p{i}"}, "color": {"S": "red" if i % 2 else "blue"}})
    ddb.update_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-color",
            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }}],
    )
    import time
    for _ in range(100):
        gsis = ddb.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"]
        if gsis[0]["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    assert gsis[0]["IndexStatus"] == "ACTIVE"
    r = ddb.query(TableName=table_name, IndexName="by-color",
                  KeyConditionExpression="color = :c", ExpressionAttributeValues={":c": {"S": "red"}})
    assert r["Count"] == 10
    ddb.update_table(TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-color"}}])
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=table_name)["Table"]


def test_ttl_settings_round_trip(ddb, table_name):
    create_table(ddb, table_name)
    assert ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    r = ddb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert r["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    d = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert error_of(e) == ("ValidationException", "TimeToLive is already enabled")


def test_ttl_sweeper_deletes_expired_items(ddb, table_name):
    import time
    create_table(ddb, table_name)
    ddb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(time.time())
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "new"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "none"}})
    for _ in range(100):
        if "Item" not in ddb.get_item(TableName=table_name, Key={"pk": {"S": "old"}}):
            break
        time.sleep(0.2)
    assert "Item" not in ddb.get_item(TableName=table_name, Key={"pk": {"S": "old"}})
    assert "Item" in ddb.get_item(TableName=table_name, Key={"pk": {"S": "new"}})
    assert "Item" in ddb.get_item(TableName=table_name, Key={"pk": {"S": "none"}})


def test_tags_round_trip(ddb, table_name):
    arn = create_table(ddb, table_name, Tags=[{"Key": "env", "Value": "prod"}])["TableDescription"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "db"}, {"Key": "env", "Value": "dev"}])
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"env": "dev", "team": "db"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "db"}]


def test_describe_endpoints_and_limits(ddb):
    assert ddb.describe_endpoints()["Endpoints"][0]["Address"] == f"dynamodb.{REGION}.amazonaws.com"
    assert ddb.describe_limits()["TableMaxReadCapacityUnits"] > 0


def test_describe_table_counts_follow_every_kind_of_write(ddb, table_name):
    # Sizes by AWS's rules: attribute name bytes + value bytes ("pk"+"a1" = 4).
    create_table(ddb, table_name, extra_attributes=[("g", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    t = ddb.describe_table(TableName=table_name)["Table"]
    assert (t["ItemCount"], t["TableSizeBytes"]) == (0, 0)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "a1"}})
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "a2"}, "g": {"S": "x"}})
    ddb.batch_write_item(RequestItems={table_name: [
        {"PutRequest": {"Item": {"pk": {"S": "a3"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "a4"}, "g": {"S": "y"}}}},
    ]})
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table_name, "Item": {"pk": {"S": "a5"}}}}])
    ddb.update_item(TableName=table_name, Key={"pk": {"S": "a1"}}, UpdateExpression="SET g = :g",
                    ExpressionAttributeValues={":g": {"S": "z"}})
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "a3"}})
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "never"}})
    with pytest.raises(ClientError):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "a6"}}, ConditionExpression="attribute_exists(pk)")
    t = ddb.describe_table(TableName=table_name)["Table"]
    # a1 (4 + g:z 2), a2 (6), a4 (6), a5 (4)
    assert t["ItemCount"] == 4
    assert t["TableSizeBytes"] == 6 + 6 + 6 + 4
    gsi = t["GlobalSecondaryIndexes"][0]
    assert gsi["ItemCount"] == 3
    assert gsi["IndexSizeBytes"] == 18
