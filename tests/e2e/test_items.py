"""Item operations, conditions, return values and their errors."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_table


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture
def table(ddb, table_name):
    create_table(ddb, table_name, range_key=("sk", "S"))
    return table_name


def test_put_get_round_trips_every_type(ddb, table):
    item = {
        "pk": {"S": "p"}, "sk": {"S": "s"},
        "s": {"S": "héllo"}, "n": {"N": "-12.500"}, "b": {"B": b"\x00\xff"},
        "t": {"BOOL": True}, "z": {"NULL": True},
        "m": {"M": {"inner": {"L": [{"N": "1"}, {"S": "x"}]}}},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"x", b"y"]},
        "empty": {"S": ""},
    }
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "s"}}, ConsistentRead=True)["Item"]
    assert got["n"] == {"N": "-12.5"}
    assert got["b"] == {"B": b"\x00\xff"}
    assert sorted(got["ss"]["SS"]) == ["a", "b"]
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert got["m"] == item["m"]
    assert got["empty"] == {"S": ""}


def test_numbers_keep_38_digits(ddb, table):
    big = "12345678901234567890123456789012345678"
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "sk": {"S": "n"}, "v": {"N": big}, "w": {"N": "1E-130"}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}, "sk": {"S": "n"}})["Item"]
    assert got["v"]["N"] == big
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "sk": {"S": "m"}, "v": {"N": big + "1"}})
    assert err(e) == ("ValidationException", "Attempting to store more than 38 significant digits in a Number")


def test_missing_item_returns_no_item(ddb, table):
    r = ddb.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    assert "Item" not in r


def test_wrong_key_gets_schema_error(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    assert err(e) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    assert err(e) == ("ValidationException", "One or more parameter values were invalid: Missing the key sk in the item")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert err(e) == ("ValidationException",
                      "One or more parameter values were invalid: Type mismatch for key sk expected: S actual: N")


def test_empty_string_key_is_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": ""}, "sk": {"S": "a"}})
    assert err(e)[0] == "ValidationException"
    assert "cannot contain an empty string value. Key: pk" in err(e)[1]


def test_empty_set_is_refused_and_nothing_changes(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "sk": {"S": "e"}, "s": {"SS": []}})
    assert err(e)[0] == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "e"}, "sk": {"S": "e"}})


def test_item_over_400kb_is_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "sk": {"S": "x"}, "v": {"S": "x" * (400 * 1024)}})
    assert err(e) == ("ValidationException", "Item size has exceeded the maximum allowed size")


def test_missing_table_on_item_ops_is_resource_not_found(ddb):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
    assert err(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_conditional_put_and_return_values(ddb, table):
    key = {"pk": {"S": "c"}, "sk": {"S": "c"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}},
                 ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={**key, "v": {"N": "2"}},
                     ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert err(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"]["v"] == {"N": "1"}
    r = ddb.put_item(TableName=table, Item={**key, "v": {"N": "3"}}, ReturnValues="ALL_OLD",
                     ConditionExpression="v = :one", ExpressionAttributeValues={":one": {"N": "1"}})
    assert r["Attributes"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=key, ReturnValues="ALL_NEW")
    assert err(e)[0] == "ValidationException"


def test_update_expressions_and_return_values(ddb, table):
    key = {"pk": {"S": "u"}, "sk": {"S": "u"}}
    r = ddb.update_item(
        TableName=table, Key=key,
        UpdateExpression="SET #c = :zero, tags = :tags, lst = :l ADD visits :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":tags": {"SS": ["a"]}, ":l": {"L": [{"N": "1"}]}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    assert r["Attributes"]["count"] == {"N": "0"}
    assert r["Attributes"]["visits"] == {"N": "1"}
    r = ddb.update_item(
        TableName=table, Key=key,
        UpdateExpression="SET #c = #c + :two, lst = list_append(lst, :more) ADD tags :b REMOVE nothing_here",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":two": {"N": "2"}, ":more": {"L": [{"N": "2"}]}, ":b": {"SS": ["b"]}},
        ReturnValues="UPDATED_NEW",
    )
    assert r["Attributes"]["count"] == {"N": "2"}
    assert r["Attributes"]["lst"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert sorted(r["Attributes"]["tags"]["SS"]) == ["a", "b"]
    r = ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE lst[0] DELETE tags :a",
                        ExpressionAttributeValues={":a": {"SS": ["a"]}}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"]["tags"]["SS"] == ["a", "b"] or sorted(r["Attributes"]["tags"]["SS"]) == ["a", "b"]
    got = ddb.get_item(TableName=table, Key=key)["Item"]
    assert got["lst"] == {"L": [{"N": "2"}]}
    assert got["tags"] == {"SS": ["b"]}


def test_update_of_key_attribute_is_refused(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}, "sk": {"S": "k"}},
                        UpdateExpression="SET sk = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    assert err(e)[0] == "ValidationException"
    assert "This attribute is part of the key" in err(e)[1]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}, "sk": {"S": "k"}})


def test_unused_expression_value_is_an_error(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "sk": {"S": "x"}},
                     ConditionExpression="attribute_not_exists(pk)",
                     ExpressionAttributeValues={":unused": {"S": "x"}})
    assert err(e) == ("ValidationException",
                      "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")


def test_syntax_error_in_condition(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "sk": {"S": "x"}}, ConditionExpression="a =")
    code, msg = err(e)
    assert code == "ValidationException"
    assert msg.startswith("Invalid ConditionExpression: Syntax error;")


def test_delete_with_condition_and_all_old(ddb, table):
    key = {"pk": {"S": "d"}, "sk": {"S": "d"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "keep"}})
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=key, ConditionExpression="v = :x",
                        ExpressionAttributeValues={":x": {"S": "other"}})
    assert err(e)[0] == "ConditionalCheckFailedException"
    r = ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert r["Attributes"]["v"] == {"S": "keep"}
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


def test_consumed_capacity_follows_aws_units(ddb, table):
    key = {"pk": {"S": "cap"}, "sk": {"S": "cap"}}
    r = ddb.put_item(TableName=table, Item={**key, "v": {"S": "x" * 3000}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 3.0
    r = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 0.5
    r = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert r["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0
    # A put that replaces an item costs by the larger of the two (AWS:
    # "the item size that matters is the larger of the two").
    r = ddb.put_item(TableName=table, Item={**key, "v": {"S": "small"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 3.0
    r = ddb.put_item(TableName=table, Item={**key, "v": {"S": "small"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0
    # A delete costs by the deleted item's size, and one unit when there was none.
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "x" * 2000}})
    r = ddb.delete_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 2.0
    r = ddb.delete_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


def test_legacy_expected_and_attribute_updates(ddb, table):
    key = {"pk": {"S": "legacy"}, "sk": {"S": "l"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}},
                 Expected={"pk": {"Exists": False}})
    ddb.update_item(TableName=table, Key=key,
                    AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "4"}}, "w": {"Action": "PUT", "Value": {"S": "x"}}},
                    Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    got = ddb.get_item(TableName=table, Key=key, AttributesToGet=["v", "w"])["Item"]
    assert got == {"v": {"N": "5"}, "w": {"S": "x"}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=key, Expected={"pk": {"Exists": False}})
    assert err(e)[0] == "ConditionalCheckFailedException"


def test_projection_expression_on_nested_paths(ddb, table):
    key = {"pk": {"S": "proj"}, "sk": {"S": "p"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"M": {"b": {"L": [{"S": "x"}, {"S": "y"}]}, "c": {"S": "z"}}}, "d": {"S": "w"}})
    got = ddb.get_item(TableName=table, Key=key, ProjectionExpression="a.b[1], #d",
                       ExpressionAttributeNames={"#d": "d"})["Item"]
    assert got == {"a": {"M": {"b": {"L": [{"S": "y"}]}}}, "d": {"S": "w"}}
