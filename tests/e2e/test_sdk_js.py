"""The AWS SDK for JavaScript v3 (@aws-sdk/client-dynamodb) against a fresh server:
tests/sdk-js/check.mjs creates a table and waits for it with the SDK's waiter, writes, reads,
pages through a Query with the SDK's paginator, gets the SDK's typed errors (a failed condition
with its old item, a cancelled transaction with its reasons, a missing table), batches, scans
and deletes the table, checking each answer; tests/sdk-js/check-iam.mjs does IAM and STS with
@aws-sdk/client-iam and client-sts (users, tags, policies and their URL-encoded documents,
groups, access keys, the simulator, roles, AssumeRole and the session's identity, typed IAM
errors), so the SDK's own XML parsers read every answer. scripts/test installs it (npm ci)."""

import os
import shutil
import subprocess

from conftest import ACCESS_KEY, REGION, ROOT, SECRET_KEY

DIR = ROOT / "tests" / "sdk-js"


def run_check(server, secret=SECRET_KEY, script="check.mjs"):
    assert (DIR / "node_modules" / "@aws-sdk" / "client-dynamodb").exists(), \
        "install it first: npm ci --prefix tests/sdk-js"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"RAMPART_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": REGION})
    return subprocess.run([shutil.which("node") or "node", str(DIR / script)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_js_sdk_drives_the_data_plane(own_server):
    r = run_check(own_server)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert "SdkJsBooks" not in own_server.client().list_tables()["TableNames"]


def test_js_sdk_with_a_wrong_secret_is_refused(own_server):
    r = run_check(own_server, secret="wrong" + SECRET_KEY[5:])
    assert r.returncode == 1
    # (Node 20 also prints the SDK's notice that it wants Node 22 for future releases.)
    assert r.stderr.strip().splitlines()[-1] == (
        "InvalidSignatureException: The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation "
        "for details."), r.stderr
    assert own_server.client().list_tables()["TableNames"] == []


def test_js_sdk_iam_and_sts(own_server):
    r = run_check(own_server, script="check-iam.mjs")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert [u["UserName"] for u in own_server.client("iam").list_users()["Users"]] == ["sdk-js-alice"]


def test_js_sdk_organizations(own_server):
    r = run_check(own_server, script="check-orgs.mjs")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert len(own_server.client("organizations").list_accounts()["Accounts"]) == 2
