"""Query and Scan: key conditions, order, pagination, filters, indexes."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_table


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture
def numbers(ddb, table_name):
    create_table(ddb, table_name, range_key=("n", "N"))
    for v in ["-10", "-1.5", "0", "2", "10", "100", "1e3"]:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "n": {"N": v}, "odd": {"BOOL": v in ("-1.5",)}})
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "other"}, "n": {"N": "5"}})
    return table_name


def ns(items):
    return [i["n"]["N"] for i in items]


def test_query_orders_numbers_numerically(ddb, numbers):
    r = ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert ns(r["Items"]) == ["-10", "-1.5", "0", "2", "10", "100", "1000"]
    r = ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", ScanIndexForward=False,
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert ns(r["Items"]) == ["1000", "100", "10", "2", "0", "-1.5", "-10"]


@pytest.mark.parametrize("cond,values,expected", [
    ("n < :a", {":a": "2"}, ["-10", "-1.5", "0"]),
    ("n <= :a", {":a": "2"}, ["-10", "-1.5", "0", "2"]),
    ("n > :a", {":a": "2"}, ["10", "100", "1000"]),
    ("n >= :a", {":a": "2"}, ["2", "10", "100", "1000"]),
    ("n = :a", {":a": "10"}, ["10"]),
    ("n BETWEEN :a AND :b", {":a": "-1.5", ":b": "10"}, ["-1.5", "0", "2", "10"]),
])
def test_query_sort_key_conditions(ddb, numbers, cond, values, expected):
    vals = {":p": {"S": "p"}, **{k: {"N": v} for k, v in values.items()}}
    r = ddb.query(TableName=numbers, KeyConditionExpression=f"pk = :p AND {cond}", ExpressionAttributeValues=vals)
    assert ns(r["Items"]) == expected


def test_query_pagination_with_limit(ddb, numbers):
    seen = []
    kw = dict(TableName=numbers, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=3)
    pages = 0
    while True:
        r = ddb.query(**kw)
        pages += 1
        seen += ns(r["Items"])
        if "LastEvaluatedKey" not in r:
            break
        assert set(r["LastEvaluatedKey"]) == {"pk", "n"}
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    assert seen == ["-10", "-1.5", "0", "2", "10", "100", "1000"]
    assert pages >= 3


def test_filter_select_count_and_projection(ddb, numbers):
    r = ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", FilterExpression="odd = :t",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}})
    assert r["Count"] == 1 and r["ScannedCount"] == 7
    r = ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", Select="COUNT",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert r["Count"] == 7 and "Items" not in r
    r = ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", ProjectionExpression="n",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert all(set(i) == {"n"} for i in r["Items"])


def test_key_condition_errors(ddb, numbers):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=numbers, KeyConditionExpression="n = :a", ExpressionAttributeValues={":a": {"N": "1"}})
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=numbers, KeyConditionExpression="pk = :p", FilterExpression="n > :a",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "1"}})
    assert err(e) == ("ValidationException",
                      "Filter Expression can only contain non-primary key attributes: Primary key attribute: n")


def test_begins_with_on_string_sort_keys(ddb, table_name):
    create_table(ddb, table_name, range_key=("sk", "S"))
    for sk in ["a", "ab", "abc", "abd", "b", "a\x00z"]:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    r = ddb.query(TableName=table_name, KeyConditionExpression="pk = :p AND begins_with(sk, :x)",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":x": {"S": "ab"}})
    assert [i["sk"]["S"] for i in r["Items"]] == ["ab", "abc", "abd"]


def test_scan_with_segments_covers_every_item_once(ddb, table_name):
    create_table(ddb, table_name)
    for i in range(60):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": f"item{i}"}})
    seen = []
    for seg in range(4):
        kw = dict(TableName=table_name, Segment=seg, TotalSegments=4, Limit=7)
        while True:
            r = ddb.scan(**kw)
            seen += [i["pk"]["S"] for i in r["Items"]]
            if "LastEvaluatedKey" not in r:
                break
            kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    assert sorted(seen) == sorted(f"item{i}" for i in range(60))
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table_name, Segment=4, TotalSegments=4)
    assert err(e)[0] == "ValidationException"


def test_scan_pages_stop_at_one_megabyte(ddb, table_name):
    create_table(ddb, table_name)
    blob = "x" * 100_000
    for i in range(15):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": f"big{i}"}, "v": {"S": blob}})
    r = ddb.scan(TableName=table_name)
    assert "LastEvaluatedKey" in r
    assert 10 <= r["Count"] <= 11
    total = r["Count"]
    while "LastEvaluatedKey" in r:
        r = ddb.scan(TableName=table_name, ExclusiveStartKey=r["LastEvaluatedKey"])
        total += r["Count"]
    assert total == 15


def test_gsi_and_lsi_queries(ddb, table_name):
    create_table(
        ddb, table_name, range_key=("sk", "S"),
        extra_attributes=[("g", "S"), ("l", "N")],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]},
        }],
    )
    for i in range(5):
        ddb.put_item(TableName=table_name, Item={
            "pk": {"S": "p"}, "sk": {"S": f"s{i}"}, "g": {"S": "even" if i % 2 == 0 else "odd"},
            "l": {"N": str(10 - i)}, "extra": {"S": "e"}, "hidden": {"S": "h"},
        })
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"S": "sparse"}})
    r = ddb.query(TableName=table_name, IndexName="gsi", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "even"}})
    assert r["Count"] == 3
    assert all(set(i) == {"pk", "sk", "g"} for i in r["Items"])
    r = ddb.query(TableName=table_name, IndexName="lsi", KeyConditionExpression="pk = :p AND l > :x",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":x": {"N": "7"}})
    assert [i["l"]["N"] for i in r["Items"]] == ["8", "9", "10"]
    assert all("hidden" not in i and "extra" in i for i in r["Items"])
    r = ddb.query(TableName=table_name, IndexName="lsi", KeyConditionExpression="pk = :p",
                  Select="ALL_ATTRIBUTES", ExpressionAttributeValues={":p": {"S": "p"}})
    assert all("hidden" in i for i in r["Items"])
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table_name, IndexName="gsi", KeyConditionExpression="g = :g", ConsistentRead=True,
                  ExpressionAttributeValues={":g": {"S": "even"}})
    assert err(e) == ("ValidationException", "Consistent reads are not supported on global secondary indexes")
    # Changing the index key moves the item within the index.
    ddb.update_item(TableName=table_name, Key={"pk": {"S": "p"}, "sk": {"S": "s0"}},
                    UpdateExpression="SET g = :o", ExpressionAttributeValues={":o": {"S": "odd"}})
    r = ddb.query(TableName=table_name, IndexName="gsi", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "odd"}})
    assert r["Count"] == 3
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"S": "bad"}, "g": {"N": "1"}})
    assert err(e)[0] == "ValidationException"
    assert "Type mismatch for Index Key g" in err(e)[1]


def test_legacy_key_conditions_and_filters(ddb, numbers):
    r = ddb.query(TableName=numbers, KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
        "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]},
    })
    assert ns(r["Items"]) == ["100", "1000"]
    r = ddb.scan(TableName=numbers, ScanFilter={"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "0"}]}})
    assert sorted(ns(r["Items"])) == ["-1.5", "-10"]
