"""The HTTP face of the endpoint: health, signatures, errors, encodings."""

import datetime
import gzip
import json
import urllib.request
import zlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, REGION, SECRET_KEY, create_table


def raw(server, body, target="DynamoDB_20120810.ListTables", sign=True, access=ACCESS_KEY, secret=SECRET_KEY,
        headers=None, when=None, region=REGION):
    """Sends one request; returns (status, headers, parsed body or text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target}
    if headers:
        h.update(headers)
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=data, headers=h)
    if sign:
        auth = SigV4Auth(Credentials(access, secret), "dynamodb", region)
        if when is not None:
            # botocore reads the time through datetime; sign "as of" another time.
            import botocore.auth as ba
            real = ba.datetime.datetime
            class Fixed(real):
                @classmethod
                def utcnow(cls):
                    return when
                @classmethod
                def now(cls, tz=None):
                    return when.replace(tzinfo=tz) if tz else when
            ba.datetime.datetime = Fixed
            try:
                auth.add_auth(req)
            finally:
                ba.datetime.datetime = real
        else:
            auth.add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            status, hdrs, content = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, content = e.code, e.headers, e.read()
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = content.decode(errors="replace")
    return status, hdrs, parsed


def test_health_endpoints(server):
    with urllib.request.urlopen(server.endpoint + "/") as r:
        assert r.read().decode() == f"healthy: dynamodb.{REGION}.amazonaws.com "
    with urllib.request.urlopen(server.endpoint + "/health") as r:
        assert r.status == 200


def test_unsigned_request_is_missing_authentication_token(server):
    status, h, body = raw(server, {}, sign=False)
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"
    assert body["message"] == "Request is missing Authentication Token"
    assert h["x-amzn-RequestId"]


def test_unknown_access_key_is_unrecognized_client(server):
    status, _, body = raw(server, {}, access="AKIAUNKNOWNUNKNOWN00")
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#UnrecognizedClientException"
    assert body["message"] == "The security token included in the request is invalid."


def test_wrong_secret_is_invalid_signature(server):
    status, _, body = raw(server, {}, secret="not-the-secret")
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert body["message"].startswith("The request signature we calculated does not match the signature you provided.")


def test_request_signed_16_minutes_ago_is_expired(server):
    when = datetime.datetime.utcnow() - datetime.timedelta(minutes=16)
    status, _, body = raw(server, {}, when=when)
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert body["message"].startswith("Signature expired:")


def test_request_signed_for_another_region_is_refused(server):
    status, _, body = raw(server, {}, region="eu-west-1")
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert "Credential should be scoped to a valid region" in body["message"]


def test_unknown_operation(server):
    status, _, body = raw(server, {}, target="DynamoDB_20120810.Frobnicate")
    assert status == 400
    assert body == {"__type": "com.amazon.coral.service#UnknownOperationException"}


def test_malformed_json_is_serialization_exception(server):
    status, _, body = raw(server, b"{not json", sign=False)
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#SerializationException"


def test_wrong_json_type_is_serialization_exception(server):
    status, _, body = raw(server, {"TableName": 5}, target="DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#SerializationException"


def test_gzip_request_and_response_with_crc32(server, ddb, table_name):
    create_table(ddb, table_name)
    payload = gzip.compress(json.dumps({"TableName": table_name}).encode())
    status, h, _ = raw(server, payload, target="DynamoDB_20120810.DescribeTable",
                       headers={"Content-Encoding": "gzip"})
    assert status == 200
    # Ask for a compressed response and check the CRC32 of the wire bytes.
    body = json.dumps({"TableName": table_name}).encode()
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
        "Accept-Encoding": "gzip"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(req)
    p = req.prepare()
    with urllib.request.urlopen(urllib.request.Request(p.url, data=p.body, headers=dict(p.headers), method="POST")) as r:
        wire = r.read()
        assert r.headers["Content-Encoding"] == "gzip"
        assert int(r.headers["x-amz-crc32"]) == zlib.crc32(wire) & 0xFFFFFFFF
        assert json.loads(gzip.decompress(wire))["Table"]["TableName"] == table_name


def test_oversized_request_is_refused(server):
    status, _, _ = raw(server, b"{" + b" " * (17 * 1024 * 1024) + b"}", sign=False)
    assert status == 413


def test_many_requests_on_one_keep_alive_connection(server, ddb, table_name):
    create_table(ddb, table_name)
    for i in range(50):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": str(i)}})
    assert ddb.scan(TableName=table_name, Select="COUNT")["Count"] == 50


def test_a_body_that_stops_arriving_is_answered_with_408_and_the_connection_closed(server):
    import socket
    import time
    port = int(server.endpoint.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=90) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
                  b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{}")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    # The server gives the body 60 s, answers 408 and closes the connection (recv saw EOF).
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"RequestTimeoutException" in reply
    assert 55 < time.monotonic() - started < 85
    assert server.client().list_tables()["TableNames"] is not None


def test_table_throughput_mode_is_billing_modes_newer_alias(server, ddb, table_name):
    keys = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    create = "DynamoDB_20120810.CreateTable"
    status, _, out = raw(server, {"TableName": table_name, **keys, "TableThroughputMode": "PAY_PER_REQUEST"},
                         target=create)
    assert status == 200, out
    desc = out["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    twin = dict(desc["TableThroughputModeSummary"])
    assert twin.pop("TableThroughputMode") == "PAY_PER_REQUEST"
    assert twin == {k: v for k, v in desc["BillingModeSummary"].items() if k != "BillingMode"}
    # An invalid value is a constraint error even beside a valid BillingMode, joined with others.
    status, _, out = raw(server, {"TableName": table_name + "-x", **keys, "BillingMode": "BOGUS1",
                                  "TableThroughputMode": "BOGUS2"}, target=create)
    assert status == 400 and out["message"] == (
        "2 validation errors detected: Value 'BOGUS1' at 'billingMode' failed to satisfy constraint: Member must "
        "satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]; Value 'BOGUS2' at 'tableThroughputMode' failed to "
        "satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
    # BillingMode wins when both are given; an always-provisioned table shows no summary.
    status, _, out = raw(server, {"TableName": table_name + "-p", **keys, "BillingMode": "PROVISIONED",
                                  "TableThroughputMode": "PAY_PER_REQUEST",
                                  "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
                         target=create)
    assert status == 200, out
    t = ddb.describe_table(TableName=table_name + "-p")["Table"]
    assert "BillingModeSummary" not in t and "TableThroughputModeSummary" not in t
    # UpdateTable takes the alias too.
    status, _, out = raw(server, {"TableName": table_name + "-p", "TableThroughputMode": "PAY_PER_REQUEST"},
                         target="DynamoDB_20120810.UpdateTable")
    assert status == 200, out
    # (This botocore does not know TableThroughputModeSummary and drops it: read the raw answer.)
    status, _, out = raw(server, {"TableName": table_name + "-p"}, target="DynamoDB_20120810.DescribeTable")
    assert out["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert out["Table"]["TableThroughputModeSummary"]["TableThroughputMode"] == "PAY_PER_REQUEST"
