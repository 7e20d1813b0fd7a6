"""The official AWS SDK for Rust (aws-sdk-dynamodb) against a fresh server: tests/sdk-rust is a
small program that creates a table, writes, reads, pages through a Query with the SDK's
paginator, gets the SDK's typed errors (a failed condition with its old item, a cancelled
transaction with its reasons, a missing table), batches, scans and deletes the table, checking
each answer. scripts/test builds it (outside the workspace: the SDK is a heavy build)."""

import os
import subprocess

from conftest import ACCESS_KEY, REGION, ROOT, SECRET_KEY

BINARY = ROOT / "target" / "sdk-rust" / "debug" / "rampart-sdk-rust-check"


def run_check(server, secret=SECRET_KEY):
    assert BINARY.exists(), ("build it first: cargo build --locked --manifest-path tests/sdk-rust/Cargo.toml "
                             "--target-dir target/sdk-rust")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"RAMPART_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": REGION})
    return subprocess.run([str(BINARY)], env=env, capture_output=True, text=True, timeout=300)


def test_rust_sdk_drives_the_data_plane(own_server):
    r = run_check(own_server)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    # The table was deleted at the end, as the program asked.
    assert "SdkRustBooks" not in own_server.client().list_tables()["TableNames"]


def test_rust_sdk_with_a_wrong_secret_is_refused(own_server):
    r = run_check(own_server, secret="wrong" + SECRET_KEY[5:])
    assert r.returncode == 1
    assert "InvalidSignatureException" in r.stderr, r.stderr
    assert own_server.client().list_tables()["TableNames"] == []
