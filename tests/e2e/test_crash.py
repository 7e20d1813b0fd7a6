"""Durability: every acknowledged write survives kill -9, and SIGTERM stops cleanly."""

import signal
import threading

from conftest import create_table


def test_acknowledged_writes_survive_kill_9(fresh_server):
    s = fresh_server.start()
    ddb = s.client()
    create_table(ddb, "crash")
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        c = s.client()
        i = 0
        while not stop.is_set():
            key = f"w{w}-{i}"
            try:
                c.put_item(TableName="crash", Item={"pk": {"S": key}, "v": {"N": str(i)}})
            except Exception:
                return
            with lock:
                acked.append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(acked) >= 300:
                break
        threading.Event().wait(0.01)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    with lock:
        keys = list(acked)
    assert len(keys) >= 300

    s.start()
    c = s.client()
    missing = []
    for i in range(0, len(keys), 100):
        chunk = keys[i:i + 100]
        r = c.batch_get_item(RequestItems={"crash": {"Keys": [{"pk": {"S": k}} for k in chunk], "ConsistentRead": True}})
        got = {it["pk"]["S"] for it in r["Responses"]["crash"]}
        missing += [k for k in chunk if k not in got]
    assert missing == []


def test_sigterm_stops_cleanly_and_data_persists(fresh_server):
    s = fresh_server.start()
    ddb = s.client()
    create_table(ddb, "persist")
    ddb.put_item(TableName="persist", Item={"pk": {"S": "a"}})
    assert s.stop(signal.SIGTERM) == 0
    s.start()
    assert s.client().get_item(TableName="persist", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


def test_generated_root_credentials_are_written_for_the_cli(tmp_path):
    import os
    import stat
    from conftest import Server
    s = Server(tmp_path / "data")
    for k in ("RAMPART_ROOT_ACCESS_KEY_ID", "RAMPART_ROOT_SECRET_ACCESS_KEY"):
        s.env.pop(k)
    s.start()
    try:
        cred = tmp_path / "data" / "credentials"
        text = cred.read_text()
        assert text.startswith("[default]\naws_access_key_id = AKIA")
        assert stat.S_IMODE(os.stat(cred).st_mode) == 0o600
        r = s.cli("dynamodb", "list-tables", env={
            "AWS_SHARED_CREDENTIALS_FILE": str(cred), "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
        assert '"TableNames"' in r.stdout
        secret = text.split("aws_secret_access_key = ")[1].strip()
        db = (tmp_path / "data").rglob("*")
        for f in db:
            if f.is_file() and f.name != "credentials":
                assert secret.encode() not in f.read_bytes(), f"secret found in {f}"
    finally:
        s.stop()


def test_transactions_across_tables_are_atomic_across_kill_9(fresh_server):
    s = fresh_server.start()
    ddb = s.client()
    create_table(ddb, "ledger-a")
    create_table(ddb, "ledger-b")
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        c = s.client()
        i = 0
        while not stop.is_set():
            key = f"t{w}-{i}"
            try:
                c.transact_write_items(TransactItems=[
                    {"Put": {"TableName": "ledger-a", "Item": {"pk": {"S": key}, "amt": {"N": "-5"}}}},
                    {"Put": {"TableName": "ledger-b", "Item": {"pk": {"S": key}, "amt": {"N": "5"}}}},
                ])
            except Exception:
                return
            with lock:
                acked.append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(acked) >= 150:
                break
        threading.Event().wait(0.01)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    s.start()
    c = s.client()

    def keys(table):
        out, kw = set(), {"TableName": table, "ConsistentRead": True}
        while True:
            r = c.scan(**kw)
            out |= {it["pk"]["S"] for it in r["Items"]}
            if "LastEvaluatedKey" not in r:
                return out
            kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]

    a, b = keys("ledger-a"), keys("ledger-b")
    assert a == b, f"torn transactions: {sorted(a ^ b)[:10]}"
    with lock:
        assert set(acked) <= a
