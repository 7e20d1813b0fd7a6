"""AssumeRoleWithWebIdentity against a locally configured OIDC provider, and
the runbook's row-level security pattern (dynamodb:LeadingKeys equal to the
caller's own Login with Amazon id), verbatim, per end user."""

import base64
import json
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT, Server

KEY = ROOT / "crates" / "iam" / "tests" / "data" / "oidc" / "rsa-2048-a.pk8.pem"
OTHER_KEY = ROOT / "crates" / "iam" / "tests" / "data" / "oidc" / "rsa-2048-b.pk8.pem"
APP = "amzn1.application.rampart-test"
RUNBOOK_ACCOUNT = "123456789012"

RUNBOOK_EXAMPLE_2 = {
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


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwks_for(key: Path, kid: str) -> dict:
    mod = subprocess.run(["openssl", "rsa", "-in", str(key), "-noout", "-modulus"],
                         capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
    return {"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                      "n": b64u(bytes.fromhex(mod)), "e": b64u((65537).to_bytes(3, "big"))}]}


def sign(claims: dict, key: Path, kid: str) -> str:
    head = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=f"{head}.{body}".encode(),
                         capture_output=True, check=True).stdout
    return f"{head}.{body}.{b64u(sig)}"


def token(sub: str, key: Path = KEY, **over) -> str:
    now = int(time.time())
    claims = {"iss": "https://www.amazon.com", "sub": sub, "aud": APP, "iat": now, "exp": now + 600}
    claims.update(over)
    return sign(claims, key, "k1")


@pytest.fixture
def wi_server(tmp_path):
    # Login with Amazon, and a generic OpenID Connect provider, both signing with KEY.
    for provider in ("www.amazon.com", "idp.example.com"):
        keys = tmp_path / "oidc" / provider
        keys.mkdir(parents=True)
        (keys / "jwks.json").write_text(json.dumps(jwks_for(KEY, "k1")))
    s = Server(tmp_path / "data", region="us-west-2",
               env={"RAMPART_ACCOUNT_ID": RUNBOOK_ACCOUNT, "RAMPART_OIDC_KEYS_DIR": str(tmp_path / "oidc")}).start()
    yield s
    s.stop()


def unsigned_sts(server):
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-west-2",
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}))


def test_row_level_security_per_end_user(wi_server):
    iam = wi_server.client("iam")
    iam.create_open_id_connect_provider(Url="https://www.amazon.com", ClientIDList=[APP],
                                       ThumbprintList=["0" * 40])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "www.amazon.com"}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"www.amazon.com:app_id": APP}}}]}
    role = iam.create_role(RoleName="GameScoresPlayers", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName="GameScoresPlayers", PolicyName="rls", PolicyDocument=json.dumps(RUNBOOK_EXAMPLE_2))
    ddb = wi_server.client()
    ddb.create_table(TableName="GameScores",
                     AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"},
                                           {"AttributeName": "GameTitle", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"},
                                {"AttributeName": "GameTitle", "KeyType": "RANGE"}],
                     BillingMode="PAY_PER_REQUEST")
    sts = unsigned_sts(wi_server)
    r = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="player1",
                                          WebIdentityToken=token("amzn1.account.USER1"))
    assert r["SubjectFromWebIdentityToken"] == "amzn1.account.USER1"
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{RUNBOOK_ACCOUNT}:assumed-role/GameScoresPlayers/player1"
    c = r["Credentials"]
    player = boto3.client("dynamodb", endpoint_url=wi_server.endpoint, region_name="us-west-2",
                          aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                          aws_session_token=c["SessionToken"], config=Config(retries={"max_attempts": 0}))
    player.put_item(TableName="GameScores", Item={"UserId": {"S": "amzn1.account.USER1"}, "GameTitle": {"S": "Chess"}})
    got = player.query(TableName="GameScores", KeyConditionExpression="UserId = :u",
                       ExpressionAttributeValues={":u": {"S": "amzn1.account.USER1"}})
    assert got["Count"] == 1
    with pytest.raises(ClientError) as e:
        player.put_item(TableName="GameScores", Item={"UserId": {"S": "amzn1.account.USER2"}, "GameTitle": {"S": "Go"}})
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "Item" not in ddb.get_item(TableName="GameScores",
                                      Key={"UserId": {"S": "amzn1.account.USER2"}, "GameTitle": {"S": "Go"}})


def test_bad_tokens_are_refused_with_sts_errors(wi_server):
    iam = wi_server.client("iam")
    iam.create_open_id_connect_provider(Url="https://www.amazon.com", ClientIDList=[APP], ThumbprintList=["0" * 40])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "www.amazon.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}
    role = iam.create_role(RoleName="r-wi", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    sts = unsigned_sts(wi_server)

    def code(tok):
        with pytest.raises(ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="s1", WebIdentityToken=tok)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]

    assert code(token("u", key=OTHER_KEY))[0] == "InvalidIdentityToken"
    assert code(token("u", aud="someone-else")) == ("InvalidIdentityToken", "Incorrect token audience")
    expired = token("u", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    assert code(expired)[0] == "ExpiredTokenException"
    assert code(token("u", iss="https://evil.example.com"))[0] == "InvalidIdentityToken"
    parts = token("u").split(".")
    forged = ".".join([parts[0], b64u(json.dumps({"iss": "https://www.amazon.com", "sub": "admin", "aud": APP,
                                                   "exp": int(time.time()) + 600}).encode()), parts[2]])
    assert code(forged)[0] == "InvalidIdentityToken"


def test_amr_is_multivalued_even_with_one_method(wi_server):
    # AWS's trust policies test `amr` with ForAnyValue:; a bare operator on a multivalued key
    # never matches, whatever the token holds (docs/iam.md).
    iam = wi_server.client("iam")
    provider = iam.create_open_id_connect_provider(Url="https://idp.example.com", ClientIDList=["app-1"],
                                                   ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    sts = unsigned_sts(wi_server)
    now = int(time.time())
    tok = sign({"iss": "https://idp.example.com", "sub": "u1", "aud": "app-1", "iat": now, "exp": now + 600,
                "amr": ["pwd"]}, KEY, "k1")
    for name, op, allowed in [("bare", "StringEquals", False), ("any", "ForAnyValue:StringEquals", True)]:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {op: {"idp.example.com:amr": "pwd"}}}]}
        role = iam.create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        if allowed:
            r = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="s1", WebIdentityToken=tok)
            assert r["SubjectFromWebIdentityToken"] == "u1"
        else:
            with pytest.raises(ClientError) as e:
                sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="s1", WebIdentityToken=tok)
            assert e.value.response["Error"]["Code"] == "AccessDenied"
