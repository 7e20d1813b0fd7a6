"""Batches and transactions."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_table


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def test_batch_write_and_get(ddb, table_name):
    create_table(ddb, table_name)
    r = ddb.batch_write_item(RequestItems={table_name: [
        {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"N": str(i)}}}} for i in range(25)
    ]})
    assert r["UnprocessedItems"] == {}
    r = ddb.batch_get_item(RequestItems={table_name: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(0, 25, 2)] + [{"pk": {"S": "missing"}}]}})
    assert len(r["Responses"][table_name]) == 13
    assert r["UnprocessedKeys"] == {}
    ddb.batch_write_item(RequestItems={table_name: [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}]})
    assert "Item" not in ddb.get_item(TableName=table_name, Key={"pk": {"S": "k0"}})


def test_batch_get_two_tables_with_projection_and_capacity(ddb, table_name):
    # Items come back exactly as written (stored bytes spliced into the response), a
    # projection applies per table, and the capacity report lists each table.
    other = table_name + "-b"
    create_table(ddb, table_name)
    create_table(ddb, other)
    item = {"pk": {"S": "k"}, "n": {"N": "1.50"}, "s": {"S": "caf\u00e9 \"q\""},
            "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"\x00\x01"}]}}},
            "ss": {"SS": ["b", "a"]}}
    ddb.put_item(TableName=table_name, Item=item)
    ddb.put_item(TableName=other, Item={"pk": {"S": "k"}, "a": {"S": "x"}, "b": {"S": "y"}})
    r = ddb.batch_get_item(
        RequestItems={
            table_name: {"Keys": [{"pk": {"S": "k"}}, {"pk": {"S": "none"}}]},
            other: {"Keys": [{"pk": {"S": "k"}}], "ProjectionExpression": "a"},
        },
        ReturnConsumedCapacity="TOTAL",
    )
    got = r["Responses"][table_name]
    assert len(got) == 1
    assert got[0]["pk"] == item["pk"] and got[0]["s"] == item["s"] and got[0]["m"] == item["m"]
    assert got[0]["n"] == {"N": "1.5"} or got[0]["n"] == item["n"]
    assert sorted(got[0]["ss"]["SS"]) == ["a", "b"]
    assert r["Responses"][other] == [{"a": {"S": "x"}}]
    assert r["UnprocessedKeys"] == {}
    assert sorted(c["TableName"] for c in r["ConsumedCapacity"]) == sorted([table_name, other])


def test_batch_limits(ddb, table_name):
    create_table(ddb, table_name)
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table_name: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(26)]})
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table_name: [
            {"PutRequest": {"Item": {"pk": {"S": "same"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "same"}}}}]})
    assert err(e) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table_name: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(101)]}})
    assert err(e)[0] == "ValidationException"


def test_transaction_commits_across_tables(ddb, table_name):
    a, b = table_name + "-a", table_name + "-b"
    create_table(ddb, a)
    create_table(ddb, b)
    ddb.put_item(TableName=a, Item={"pk": {"S": "acct"}, "bal": {"N": "100"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": a, "Key": {"pk": {"S": "acct"}}, "UpdateExpression": "SET bal = bal - :x",
                    "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": {"N": "30"}}}},
        {"Put": {"TableName": b, "Item": {"pk": {"S": "ledger1"}, "amt": {"N": "30"}}}},
    ])
    r = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": a, "Key": {"pk": {"S": "acct"}}}},
        {"Get": {"TableName": b, "Key": {"pk": {"S": "ledger1"}}}},
        {"Get": {"TableName": b, "Key": {"pk": {"S": "none"}}}},
    ])
    assert r["Responses"][0]["Item"]["bal"] == {"N": "70"}
    assert r["Responses"][1]["Item"]["amt"] == {"N": "30"}
    assert r["Responses"][2] == {}


def test_transaction_cancellation_changes_nothing(ddb, table_name):
    create_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "x"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": "y"}}}},
            {"ConditionCheck": {"TableName": table_name, "Key": {"pk": {"S": "x"}}, "ConditionExpression": "v = :two",
                                "ExpressionAttributeValues": {":two": {"N": "2"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    code, msg = err(e)
    assert code == "TransactionCanceledException"
    assert msg == "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    reasons = e.value.response["CancellationReasons"]
    assert reasons[0]["Code"] == "None"
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"]["v"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=table_name, Key={"pk": {"S": "y"}})


def test_transaction_refuses_two_actions_on_one_item(ddb, table_name):
    create_table(ddb, table_name)
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": "z"}}}},
            {"Delete": {"TableName": table_name, "Key": {"pk": {"S": "z"}}}},
        ])
    assert err(e) == ("ValidationException", "Transaction request cannot include multiple operations on one item")


def test_client_request_token_is_idempotent(ddb, table_name):
    create_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    items = [{"Update": {"TableName": table_name, "Key": {"pk": {"S": "c"}}, "UpdateExpression": "ADD n :one",
                         "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken="tok-1")
    ddb.transact_write_items(TransactItems=items, ClientRequestToken="tok-1")
    assert ddb.get_item(TableName=table_name, Key={"pk": {"S": "c"}})["Item"]["n"] == {"N": "1"}
    other = [{"Put": {"TableName": table_name, "Item": {"pk": {"S": "d"}}}}]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=other, ClientRequestToken="tok-1")
    assert err(e)[0] == "IdempotentParameterMismatchException"
