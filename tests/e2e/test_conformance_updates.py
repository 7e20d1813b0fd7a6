"""Update and condition semantics that DynamoDB has and its documentation barely states,
checked through boto3: which comparisons are invalid rather than false, how SET orders list
appends, which document paths REMOVE refuses, which updates do not create a missing item, and
the legacy AttributeUpdates' own rules. Observed against DynamoDB and recorded by ScyllaDB's
Alternator tests and dynalite (see docs/compatibility.md)."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_table, error_of


@pytest.fixture
def table(ddb, table_name):
    create_table(ddb, table_name)
    return table_name


def item(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("value,type_name", [
    ({"L": [{"N": "1"}]}, "L"), ({"BOOL": True}, "BOOL"), ({"NULL": True}, "NULL"),
    ({"M": {}}, "M"), ({"SS": ["a"]}, "SS"),
])
def test_ordering_a_value_that_cannot_be_ordered_is_invalid_not_false(ddb, table, value, type_name):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"N": "1"}})
    for op in ["<", "<=", ">", ">="]:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET z = :n",
                            ConditionExpression=f"a {op} :v",
                            ExpressionAttributeValues={":n": {"N": "2"}, ":v": value})
        assert error_of(e) == ("ValidationException",
                               "Invalid ConditionExpression: Incorrect operand type for operator or function; "
                               f"operator or function: {op}, operand type: {type_name}", 400)
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET z = :n",
                        ConditionExpression="a BETWEEN :v AND :v",
                        ExpressionAttributeValues={":n": {"N": "2"}, ":v": value})
    assert error_of(e)[:2] == ("ValidationException",
                               "Invalid ConditionExpression: Incorrect operand type for operator or function; "
                               f"operator or function: BETWEEN, operand type: {type_name}")
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, FilterExpression="a > :v", ExpressionAttributeValues={":v": value})
    assert error_of(e)[1].startswith("Invalid FilterExpression: Incorrect operand type")
    # Nothing was written.
    assert "z" not in item(ddb, table, "k")


def test_ordering_a_stored_attribute_of_another_type_is_only_false(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"L": []}})
    for cond, values in [("a < :v", {":v": {"N": "1"}}), ("q < :v", {":v": {"S": "x"}}),
                         ("a BETWEEN :v AND :w", {":v": {"N": "1"}, ":w": {"N": "2"}})]:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET z = :z",
                            ConditionExpression=cond, ExpressionAttributeValues={":z": {"N": "1"}, **values})
        assert error_of(e)[0] == "ConditionalCheckFailedException"
    # Equality takes any type.
    ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET z = :z",
                    ConditionExpression="a = :l", ExpressionAttributeValues={":z": {"N": "1"}, ":l": {"L": []}})
    assert item(ddb, table, "k")["z"] == {"N": "1"}


def test_set_appends_list_elements_past_the_end_in_index_order(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"L": [{"S": "one"}, {"S": "two"}]}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "k"}},
                    UpdateExpression="SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4, a[0] = :z",
                    ExpressionAttributeValues={":a1": {"S": "a1"}, ":a2": {"S": "a2"}, ":a3": {"S": "a3"},
                                               ":a4": {"S": "a4"}, ":z": {"S": "zero"}})
    assert [v["S"] for v in item(ddb, table, "k")["a"]["L"]] == ["zero", "two", "a3", "a2", "a4", "a1"]


@pytest.mark.parametrize("expression", ["REMOVE s.c", "REMOVE l.c", "REMOVE gone.c", "REMOVE s[0]",
                                        "REMOVE gone[0]", "REMOVE m.gone.c"])
def test_remove_through_a_missing_or_mistyped_parent_is_an_invalid_path(ddb, table, expression):
    stored = {"pk": {"S": "k"}, "s": {"S": "hello"}, "l": {"L": [{"S": "hi"}]}, "m": {"M": {}}}
    ddb.put_item(TableName=table, Item=stored)
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression=expression)
    assert error_of(e) == ("ValidationException",
                           "The document path provided in the update expression is invalid for update", 400)
    assert item(ddb, table, "k") == stored


def test_remove_of_a_missing_last_step_changes_nothing(ddb, table):
    stored = {"pk": {"S": "k"}, "l": {"L": [{"S": "hi"}]}, "m": {"M": {"x": {"N": "1"}}}}
    ddb.put_item(TableName=table, Item=stored)
    ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="REMOVE gone, m.y, l[5]")
    assert item(ddb, table, "k") == stored


def test_list_append_does_not_nest_in_list_append(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}},
                        UpdateExpression="SET a = list_append(list_append(:a, :b), :c)",
                        ExpressionAttributeValues={":a": {"L": []}, ":b": {"L": []}, ":c": {"L": []}})
    assert error_of(e) == ("ValidationException",
                           "Invalid UpdateExpression: The function is not allowed to be used this way in an "
                           "expression; function: list_append", 400)
    assert item(ddb, table, "k") is None
    # if_not_exists inside list_append is fine.
    for tail in (["cat"], ["dog"]):
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}},
                        UpdateExpression="SET a = list_append(if_not_exists(a, :empty), :t)",
                        ExpressionAttributeValues={":empty": {"L": [{"S": "x"}]},
                                                   ":t": {"L": [{"S": s} for s in tail]}})
    assert [v["S"] for v in item(ddb, table, "k")["a"]["L"]] == ["x", "cat", "dog"]


@pytest.mark.parametrize("update", [
    {"UpdateExpression": "REMOVE a"},
    {"UpdateExpression": "REMOVE a.b"},
    {"UpdateExpression": "REMOVE a, b[2]"},
    {"UpdateExpression": "DELETE s :s", "ExpressionAttributeValues": {":s": {"SS": ["x"]}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE", "Value": {"NS": ["4"]}}}},
])
def test_an_update_that_only_takes_away_does_not_create_a_missing_item(ddb, table, update):
    ddb.update_item(TableName=table, Key={"pk": {"S": "new"}}, **update)
    assert item(ddb, table, "new") is None
    # The same inside a transaction.
    ddb.transact_write_items(TransactItems=[{"Update": {"TableName": table, "Key": {"pk": {"S": "tx"}},
                                                        "UpdateExpression": "REMOVE a"}}])
    assert item(ddb, table, "tx") is None


def test_any_other_update_of_a_missing_item_creates_it(ddb, table):
    ddb.update_item(TableName=table, Key={"pk": {"S": "empty"}}, AttributeUpdates={})
    assert item(ddb, table, "empty") == {"pk": {"S": "empty"}}
    ddb.update_item(TableName=table, Key={"pk": {"S": "mixed"}}, UpdateExpression="SET b = :v REMOVE a",
                    ExpressionAttributeValues={":v": {"N": "1"}})
    assert item(ddb, table, "mixed") == {"pk": {"S": "mixed"}, "b": {"N": "1"}}


def test_attribute_updates_action_must_be_add_put_or_delete(raw, table):
    with pytest.raises(ClientError) as e:
        raw.update_item(TableName=table, Key={"pk": {"S": "k"}},
                        AttributeUpdates={"attr": {"Action": "NONEXISTENT", "Value": {"S": "v"}}})
    assert error_of(e) == ("ValidationException",
                           "1 validation error detected: Value 'NONEXISTENT' at 'attributeUpdates.attr.member.action' "
                           "failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", 400)
    assert raw.get_item(TableName=table, Key={"pk": {"S": "k"}}).get("Item") is None


def test_attribute_updates_add_appends_lists_and_reports_type_mismatches(ddb, table):
    key = {"pk": {"S": "k"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"L": [{"N": "1"}]}, "n": {"NS": ["1", "2"]}})
    ddb.update_item(TableName=table, Key=key, AttributeUpdates={
        "a": {"Action": "ADD", "Value": {"L": [{"N": "2"}, {"S": "x"}]}},
        "b": {"Action": "ADD", "Value": {"L": [{"N": "7"}]}}})
    got = item(ddb, table, "k")
    assert got["a"] == {"L": [{"N": "1"}, {"N": "2"}, {"S": "x"}]} and got["b"] == {"L": [{"N": "7"}]}
    for update in [{"n": {"Action": "ADD", "Value": {"SS": ["a"]}}},
                   {"n": {"Action": "DELETE", "Value": {"SS": ["a"]}}},
                   {"a": {"Action": "ADD", "Value": {"N": "1"}}}]:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=table, Key=key, AttributeUpdates=update)
        assert error_of(e) == ("ValidationException", "Type mismatch for attribute to update", 400)
    assert item(ddb, table, "k") == got
    # An update expression's ADD takes numbers and sets only, and says so in its own words.
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=key, UpdateExpression="ADD n :s",
                        ExpressionAttributeValues={":s": {"SS": ["a"]}})
    assert error_of(e)[1] == "An operand in the update expression has an incorrect data type"


WITHOUT = "ConditionalOperator cannot be used without Filter or Expected"
TWO_OR_MORE = "ConditionalOperator can only be used when Filter or Expected has two or more elements"


def cond(v):
    return {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": v}]}


def test_conditional_operator_needs_two_or_more_conditions(ddb, table):
    key = {"pk": {"S": "k"}}
    calls = [
        (lambda **kw: ddb.update_item(TableName=table, Key=key,
                                      AttributeUpdates={"a": {"Value": {"S": "v"}, "Action": "PUT"}}, **kw), "Expected"),
        (lambda **kw: ddb.put_item(TableName=table, Item=key, **kw), "Expected"),
        (lambda **kw: ddb.delete_item(TableName=table, Key=key, **kw), "Expected"),
        (lambda **kw: ddb.scan(TableName=table, **kw), "ScanFilter"),
        (lambda **kw: ddb.query(TableName=table, KeyConditions={"pk": cond("k")}, **kw), "QueryFilter"),
    ]
    for call, conditions in calls:
        for extra, message in [({}, WITHOUT), ({conditions: {}}, WITHOUT), ({conditions: {"a": cond("x")}}, TWO_OR_MORE)]:
            with pytest.raises(ClientError) as e:
                call(ConditionalOperator="OR", **extra)
            assert error_of(e) == ("ValidationException", message, 400), (conditions, extra)
    assert item(ddb, table, "k") is None
    # Two conditions: accepted.
    ddb.put_item(TableName=table, Item={**key, "a": {"S": "x"}}, ConditionalOperator="OR",
                 Expected={"a": {"Exists": False}, "b": {"Exists": False}})
    assert item(ddb, table, "k") == {**key, "a": {"S": "x"}}


def test_conditional_operator_is_a_non_expression_parameter(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, ConditionalOperator="AND",
                        UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    assert error_of(e)[1] == ("Can not use both expression and non-expression parameters in the same request: "
                              "Non-expression parameters: {ConditionalOperator} "
                              "Expression parameters: {UpdateExpression}")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}}, Expected={"a": cond("x")},
                     ConditionalOperator="AND", ConditionExpression="attribute_exists(pk)")
    assert error_of(e)[1] == ("Can not use both expression and non-expression parameters in the same request: "
                              "Non-expression parameters: {Expected, ConditionalOperator} "
                              "Expression parameters: {ConditionExpression}")


def test_legacy_not_contains_is_false_for_a_missing_attribute(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "s": {"SS": ["a"]}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "z": {"N": "1"}},
                     Expected={"q": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "b"}]}})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "s": {"SS": ["a"]}, "z": {"N": "1"}},
                 Expected={"s": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "b"}]}})
    # NE, by contrast, holds for a missing attribute.
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "z": {"N": "2"}},
                 Expected={"q": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "b"}]}})
    assert item(ddb, table, "k")["z"] == {"N": "2"}


def test_updated_new_reads_every_named_path_in_the_new_item(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"M": {"c": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}},
                                        "b": {"N": "1"}})
    r = ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, ReturnValues="UPDATED_NEW",
                        UpdateExpression="REMOVE a.c[1], b")
    # The removed element's index now names its successor; the removed attribute is gone.
    assert r["Attributes"] == {"a": {"M": {"c": {"L": [{"N": "3"}]}}}}
    r = ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, ReturnValues="UPDATED_NEW",
                        UpdateExpression="SET a.c[100] = :v", ExpressionAttributeValues={":v": {"N": "9"}})
    assert "Attributes" not in r


def test_document_paths_have_at_most_32_levels(ddb, table):
    ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression="a" + ".b" * 31)
    for call, kind in [
        (lambda p: ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression=p), "ProjectionExpression"),
        (lambda p: ddb.put_item(TableName=table, Item={"pk": {"S": "k"}}, ConditionExpression=f"attribute_exists({p})"),
         "ConditionExpression"),
        (lambda p: ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression=f"REMOVE {p}"),
         "UpdateExpression"),
    ]:
        with pytest.raises(ClientError) as e:
            call("a" + ".b" * 32)
        assert error_of(e) == ("ValidationException",
                               f"Invalid {kind}: The document path has too many nesting levels; nesting levels: 33", 400)
    assert item(ddb, table, "k") is None


OPERATORS = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"


def test_an_unknown_legacy_comparison_operator_is_a_constraint_error(ddb, server, table_name):
    create_table(ddb, table_name, range_key=("c", "N"))
    raw = server.client(parameter_validation=False)
    pk = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}
    bad = {"AttributeValueList": [{"N": "1"}]}
    for op in ["DOG", "eq"]:
        cases = [
            (lambda: raw.query(TableName=table_name, KeyConditions={"pk": pk, "c": {**bad, "ComparisonOperator": op}}),
             "keyConditions.c"),
            (lambda: raw.query(TableName=table_name, KeyConditions={"pk": pk},
                               QueryFilter={"x": {**bad, "ComparisonOperator": op}}), "queryFilter.x"),
            (lambda: raw.scan(TableName=table_name, ScanFilter={"x": {**bad, "ComparisonOperator": op}}), "scanFilter.x"),
            (lambda: raw.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "c": {"N": "1"}},
                                  Expected={"x": {**bad, "ComparisonOperator": op}}), "expected.x"),
        ]
        for call, at in cases:
            with pytest.raises(ClientError) as e:
                call()
            assert error_of(e) == ("ValidationException",
                                   f"1 validation error detected: Value '{op}' at '{at}.member.comparisonOperator' "
                                   f"failed to satisfy constraint: Member must satisfy enum value set: {OPERATORS}", 400)
    assert raw.scan(TableName=table_name)["Count"] == 0


def test_legacy_key_conditions_check_operand_types(ddb, table_name):
    create_table(ddb, table_name, range_key=("c", "N"))
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table_name, KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "c": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "3"}]}})
    assert error_of(e) == ("ValidationException", "One or more parameter values were invalid: "
                           "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type", 400)


def test_legacy_eq_and_ne_compare_every_type(ddb, table):
    values = {"l": {"L": [{"N": "1"}, {"S": "x"}]}, "m": {"M": {"a": {"BOOL": True}}}, "b": {"BOOL": False},
              "n": {"NULL": True}}
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, **values})
    ddb.put_item(TableName=table, Item={"pk": {"S": "other"}, "l": {"L": []}, "m": {"M": {}}, "b": {"BOOL": True}})
    for attr, v in values.items():
        got = ddb.scan(TableName=table, ScanFilter={attr: {"ComparisonOperator": "EQ", "AttributeValueList": [v]}})
        assert [i["pk"]["S"] for i in got["Items"]] == ["k"], attr
        got = ddb.scan(TableName=table, ScanFilter={attr: {"ComparisonOperator": "NE", "AttributeValueList": [v]}})
        assert [i["pk"]["S"] for i in got["Items"]] == ["other"], attr
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "z": {"N": "1"}},
                 Expected={"l": {"ComparisonOperator": "EQ", "AttributeValueList": [values["l"]]}})
    assert item(ddb, table, "k") == {"pk": {"S": "k"}, "z": {"N": "1"}}


def test_tag_rules(ddb, raw, table_name):
    with pytest.raises(ClientError) as e:
        create_table(ddb, table_name, Tags=[{"Key": str(i), "Value": str(i)} for i in range(51)])
    assert error_of(e) == ("ValidationException", "One or more parameter values were invalid: "
                           "The number of tags exceeds the limit of 50", 400)
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    assert error_of(e)[0] == "ResourceNotFoundException"
    arn = create_table(ddb, table_name)["TableDescription"]["TableArn"]
    with pytest.raises(ClientError) as e:
        raw.tag_resource(ResourceArn=arn, Tags=[])
    assert error_of(e) == ("ValidationException", "1 validation error detected: Value '[]' at 'tags' failed to "
                           "satisfy constraint: Member must have length greater than or equal to 1", 400)
    r = ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": str(i)} for i in range(30)])
    # An empty body, as DynamoDB answers.
    assert r["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": str(i)} for i in range(20, 40)])
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": str(i)} for i in range(40, 60)])
    assert error_of(e)[:2] == ("ValidationException", "One or more parameter values were invalid: "
                               "The number of tags exceeds the limit of 50")
    for key, value in [("ok", "#!%%^$$&"), ("->>;-)])", "ok"), ("!!!\\|", "<><")]:
        with pytest.raises(ClientError) as e:
            ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": key, "Value": value}])
        assert error_of(e)[0] == "ValidationException"
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Ünïcode letters 9", "Value": "a+b-c=d.e_f:g/h@i"}])
    tags = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert len(tags) == 41 and {"Key": "Ünïcode letters 9", "Value": "a+b-c=d.e_f:g/h@i"} in tags
    r = ddb.untag_resource(ResourceArn=arn, TagKeys=["0"])
    assert r["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"


def test_a_bad_key_in_a_transaction_cancels_it_with_a_validation_error_reason(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"N": "7"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"N": "8"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "x"}}, "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert error_of(e)[0] == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ValidationError", "None", "None"]
    assert "Message" in reasons[0] and all("Message" not in r for r in reasons[1:])
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "1"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"B": "AQ=="}}}},
        ])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "ValidationError"]
    assert ddb.scan(TableName=table)["Count"] == 0


def test_wording_recorded_against_dynamodb(ddb, raw, table_name):
    create_table(ddb, table_name)
    for call in [lambda: ddb.put_item(TableName=table_name, Item={"pk": {"S": "k"}}, ReturnValues="UPDATED_OLD"),
                 lambda: ddb.delete_item(TableName=table_name, Key={"pk": {"S": "k"}}, ReturnValues="ALL_NEW")]:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("ValidationException", "ReturnValues can only be ALL_OLD or NONE", 400)
    with pytest.raises(ClientError) as e:
        raw.put_item(TableName=table_name, Item={"pk": {"S": "k"}}, ReturnValues="GARBAGE")
    assert error_of(e)[1] == ("1 validation error detected: Value 'GARBAGE' at 'returnValues' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
                              "UPDATED_NEW]")
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=table_name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}},
                  Select="COUNT", ProjectionExpression="pk")
    assert error_of(e)[1] == ("1 validation error detected: Cannot specify the ProjectionExpression when choosing "
                              "to get only the Count")
    long_path = "a" + ".b" * 2100
    for call, kind, suffix in [
        (lambda: ddb.get_item(TableName=table_name, Key={"pk": {"S": "k"}}, ProjectionExpression=long_path),
         "ProjectionExpression", ""),
        (lambda: ddb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="REMOVE " + long_path),
         "UpdateExpression", ""),
        (lambda: ddb.scan(TableName=table_name, FilterExpression=f"attribute_exists({long_path})"),
         "FilterExpression", f" expression size: {len(long_path) + 18}"),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e)[1] == f"Invalid {kind}: Expression size has exceeded the maximum allowed size;{suffix}"
    assert ddb.scan(TableName=table_name)["Count"] == 0


def test_a_number_set_with_a_null_member_is_an_empty_attribute_value(raw, table):
    with pytest.raises(ClientError) as e:
        raw.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"NS": ["1", None]}})
    assert error_of(e)[:2] == ("ValidationException", "Supplied AttributeValue is empty, must contain exactly one of "
                               "the supported datatypes")


def test_transaction_edge_cases_recorded_against_dynamodb(ddb, table):
    # No expression: names and values are ignored, not refused.
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "a"}, "v": {"S": "x"}},
                                                     "ExpressionAttributeNames": {"#n": "v"},
                                                     "ExpressionAttributeValues": {":v": {"S": "x"}}}}])
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "a"}},
                                                       "ExpressionAttributeNames": {"#n": "v"}}}])
    assert r["Responses"][0]["Item"]["v"] == {"S": "x"}
    # A projection matching nothing leaves no Item.
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "a"}},
                                                       "ProjectionExpression": "nothing"}}])
    assert r["Responses"] == [{}]
    # A key of the wrong type cancels a TransactGetItems too.
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
                                              {"Get": {"TableName": table, "Key": {"pk": {"N": "1"}}}}])
    assert error_of(e)[0] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "ValidationError"]
    # A malformed value fails the request itself.
    deep = {"S": "x"}
    for _ in range(32):
        deep = {"M": {"m": deep}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "d": deep}}}])
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": ""}}}}])
    assert error_of(e)[0] == "ValidationException"


def test_a_table_arn_names_the_table_in_batches_and_transactions(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    # ConsumedCapacity names the table as the request did.
    r = ddb.put_item(TableName=arn, Item={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["TableName"] == arn
    r = ddb.get_item(TableName=arn, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["TableName"] == arn
    r = ddb.query(TableName=arn, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                  ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["TableName"] == arn
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "a"}},
                        ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]["TableName"] == table
    ddb.batch_write_item(RequestItems={arn: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]})
    r = ddb.batch_get_item(RequestItems={arn: {"Keys": [{"pk": {"S": "b"}}]}})
    assert list(r["Responses"].values()) == [[{"pk": {"S": "b"}}]]
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": arn, "Item": {"pk": {"S": "t"}}}}])
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": arn, "Key": {"pk": {"S": "t"}}}}])
    assert r["Responses"][0]["Item"] == {"pk": {"S": "t"}}
    # The name part must still be a table name.
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={arn[:arn.rindex("/") + 1] + "a@b": [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}]})
    assert error_of(e)[0] == "ValidationException"


def test_expression_attribute_map_entries(ddb, table):
    long_name = "#" + "a" * 255
    for names, message in [
        ({long_name: "v"}, "ExpressionAttributeNames contains invalid key: The expression attribute map contains a "
                           "key that is too long; size of key: 256"),
        ({"#" + "a" * 255 + "!-": "v"}, "ExpressionAttributeNames contains invalid key: The expression attribute map "
                                        "contains a key that is too long; size of key: 258"),
        ({"#a": ""}, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression="#a",
                         ExpressionAttributeNames=names)
        assert error_of(e) == ("ValidationException", message, 400)
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, FilterExpression="v = :v",
                 ExpressionAttributeValues={":" + "v" * 255: {"S": "x"}})
    assert error_of(e)[1] == ("ExpressionAttributeValues contains invalid key: The expression attribute map "
                              "contains a key that is too long;")


def test_request_errors_come_before_the_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName="no-such-table", FilterExpression="a +")
    assert error_of(e)[0] == "ValidationException" and error_of(e)[1].startswith("Invalid FilterExpression:")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={"no-such-table": {"Keys": [{"a": {"S": "k"}}, {"a": {"S": "k"}}]}})
    assert error_of(e)[:2] == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName="no-such-table", FilterExpression="a = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_batch_get_does_not_mix_expression_and_legacy_projections_across_tables(ddb, table, table_name):
    create_table(ddb, table_name + "-b")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={
            table: {"Keys": [{"pk": {"S": "a"}}], "ProjectionExpression": "pk"},
            table_name + "-b": {"Keys": [{"pk": {"S": "b"}}], "AttributesToGet": ["pk"]}})
    assert error_of(e) == ("ValidationException", "Can not use both expression and non-expression parameters in "
                           "the same request: Non-expression parameters: {AttributesToGet} Expression parameters: "
                           "{ProjectionExpression}", 400)
