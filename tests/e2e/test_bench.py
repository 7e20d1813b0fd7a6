"""rampart-bench against the session's server: it prepares its table, sends a few hundred
signed requests of each kind and reports them all as successes; with a wrong secret every
request is refused and reported by AWS error type. Counts only, never timings."""

import json
import os
import subprocess

import pytest

from conftest import ACCESS_KEY, REGION, ROOT, SECRET_KEY


def bench_binary():
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "rampart-bench"
        if p.exists():
            return p
    raise RuntimeError("build the load generator first: cargo build -p rampart-bench")


def run_bench(server, *args, secret=SECRET_KEY):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": REGION,
    })
    env.pop("AWS_SESSION_TOKEN", None)
    r = subprocess.run(
        [str(bench_binary()), "run", "--endpoint", server.endpoint, "--json", "--quiet", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("workload", ["ycsb-a", "put-item", "query", "batch-write"])
def test_bench_prepares_and_reports_every_request_as_ok(server, ddb, workload):
    table = f"bench-{workload}"
    report = run_bench(
        server, "--prepare", "--table", table, "--keyspace", "200", "--item-size", "200",
        "--workload", workload, "--requests", "300", "--connections", "4",
        "--distribution", "zipfian",
    )
    assert report["tool"] == "rampart-bench"
    assert report["prepare"]["items"] == 200
    assert report["requests"] == 300
    assert report["ok"] == 300, report["errors"]
    assert report["errors"] == {}
    assert report["misses"] == 0
    assert report["unprocessed_items"] == 0
    lat = report["latency_us"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert sum(op["requests"] for op in report["operations"].values()) == 300
    # The prepared items are really there, as the tool wrote them.
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "user0000000001"}, "sk": {"S": "000002"}})
    assert "d" in item["Item"]
    if workload == "query":
        assert set(report["operations"]) == {"Query"}
    if workload == "ycsb-a":
        assert set(report["operations"]) == {"GetItem", "UpdateItem"}


def test_bench_open_loop_reports_the_target_rate(server):
    report = run_bench(
        server, "--prepare", "--table", "bench-open", "--keyspace", "100",
        "--workload", "get-item", "--requests", "200", "--rate", "400",
    )
    assert report["mode"] == "open"
    assert report["target_rate"] == 400
    assert report["ok"] == 200


def test_bench_with_wrong_secret_reports_signature_errors_by_type(server):
    run_bench(server, "--prepare-only", "--table", "bench-auth", "--keyspace", "25")
    report = run_bench(
        server, "--table", "bench-auth", "--keyspace", "25", "--requests", "50",
        secret="not-the-secret",
    )
    assert report["ok"] == 0
    assert report["errors"] == {"InvalidSignatureException": 50}


def test_bench_watches_the_server_process(server):
    report = run_bench(
        server, "--prepare", "--table", "bench-watch", "--keyspace", "50",
        "--requests", "100", "--watch-pid", str(server.proc.pid),
    )
    usage = report["server"]
    assert usage["pid"] == server.proc.pid
    assert usage["rss_after_kib"] > 0
