"""Turns the JSON reports of one bench/run.sh run into the Markdown tables of
docs/performance.md. Usage: python3 bench/summarize.py RESULTS_DIR"""

import json
import sys
from pathlib import Path

SERVERS = ["ceiling", "rampart", "dynalite", "moto"]
WORKLOADS = [
    ("get-item", "GetItem"),
    ("put-item", "PutItem"),
    ("query", "Query (10 items)"),
    ("ycsb-a", "50/50 GetItem/UpdateItem (YCSB A)"),
]


def load(d: Path, name: str):
    p = d / f"{name}.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError:
        return None


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def mib(kib) -> str:
    return "?" if kib in (None, 0) else f"{kib / 1024:.1f}"


def errors(r) -> str:
    if not r["errors"]:
        return "0"
    return ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items()))


def main(d: Path) -> None:
    out = []
    machine = (d / "machine.txt").read_text() if (d / "machine.txt").exists() else ""
    out.append("```\n" + machine.strip() + "\n```\n")
    present = [s for s in SERVERS if load(d, f"{s}-get-item")]
    for w, title in WORKLOADS:
        out.append(f"### {title}\n")
        out.append("| server | req/s | vs ceiling | p50 ms | p99 ms | p99.9 ms | errors | "
                   "server CPU µs/req |")
        out.append("|---|---:|---:|---:|---:|---:|---|---:|")
        ceiling = load(d, f"ceiling-{w}")
        for s in present:
            r = load(d, f"{s}-{w}")
            if not r:
                continue
            rel = (f"{100 * r['throughput_rps'] / ceiling['throughput_rps']:.0f}%"
                   if ceiling and ceiling["throughput_rps"] else "")
            cpu = (r.get("server") or {}).get("cpu_seconds")
            cpu = None if cpu is None or not r["ok"] else 1e6 * cpu / (r["ok"] + sum(r["errors"].values()))
            out.append(
                f"| {s} | {r['throughput_rps']:.0f} | {rel} | {ms(r['latency_us']['p50'])} | "
                f"{ms(r['latency_us']['p99'])} | {ms(r['latency_us']['p999'])} | {errors(r)} | "
                f"{'' if cpu is None else f'{cpu:.0f}'} |")
        out.append("")

    wide = [(s, load(d, f"{s}-put-item-wide")) for s in present]
    wide = [(s, r) for s, r in wide if r]
    if wide:
        out.append(f"### PutItem with {wide[0][1]['connections']} connections\n")
        out.append("| server | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU µs/req |")
        out.append("|---|---:|---:|---:|---:|---|---:|")
        for s, r in wide:
            cpu = (r.get("server") or {}).get("cpu_seconds")
            n = r["ok"] + sum(r["errors"].values())
            cpu = "" if cpu is None or not n else f"{1e6 * cpu / n:.0f}"
            out.append(f"| {s} | {r['throughput_rps']:.0f} | {ms(r['latency_us']['p50'])} | "
                       f"{ms(r['latency_us']['p99'])} | {ms(r['latency_us']['p999'])} | "
                       f"{errors(r)} | {cpu} |")
        out.append("")

    out.append("### Latency at half of peak (open loop, from intended start)\n")
    out.append("| server | operation | rate req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | unsent |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for s in present:
        for w in ("get-item", "put-item"):
            r = load(d, f"{s}-{w}-half")
            if r:
                out.append(
                    f"| {s} | {w} | {r['target_rate']:.0f} | {r['throughput_rps']:.0f} | "
                    f"{ms(r['latency_us']['p50'])} | {ms(r['latency_us']['p99'])} | "
                    f"{ms(r['latency_us']['p999'])} | {r['unsent']} |")
    out.append("")

    out.append("### Memory (VmRSS)\n")
    out.append("| server | idle MiB | max under load MiB | peak (VmHWM) MiB |")
    out.append("|---|---:|---:|---:|")
    for s in present:
        idle = load(d, f"{s}-idle") or {}
        end = load(d, f"{s}-end") or {}
        under = max(((load(d, f"{s}-{w}") or {}).get("server") or {}).get("rss_max_kib") or 0
                    for w, _ in WORKLOADS)
        out.append(f"| {s} | {mib(idle.get('idle_rss_kib'))} | {mib(under)} | "
                   f"{mib(end.get('peak_rss_kib'))} |")
    out.append("")

    colds = [load(d, f"rampart-cold-{i}-start") for i in range(1, 10)]
    colds = [c for c in colds if c]
    warm = [load(d, f"rampart-warmdata-{i}-start") for i in range(1, 10)]
    warm = [c for c in warm if c]
    if colds:
        out.append("### Rampart cold start (process start to first 200 on /health)\n")
        out.append("| run | data directory | ms | RSS at ready MiB |")
        out.append("|---|---|---:|---:|")
        for i, c in enumerate(colds, 1):
            what = "empty (bootstraps the account)" if i == 1 else "small (after run 1)"
            out.append(f"| {i} | {what} | {c['ready_ms']:.1f} | {mib(c.get('rss_kib'))} |")
        for i, c in enumerate(warm, 1):
            out.append(f"| {len(colds) + i} | every scaling table | {c['ready_ms']:.1f} | "
                       f"{mib(c.get('rss_kib'))} |")
        out.append("")

    scales = sorted({int(p.name.split("-")[1]) for p in d.glob("scale-*-prepare.json")})
    if scales:
        out.append("### Rampart as the table grows\n")
        out.append("| items | load items/s | GetItem req/s | GetItem p99 ms | PutItem req/s | "
                   "PutItem p99 ms | YCSB-A req/s | YCSB-A p99 ms | data dir MiB |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in scales:
            prep = (load(d, f"scale-{n}-prepare") or {}).get("prepare") or {}
            cells = []
            for w in ("get-item", "put-item", "ycsb-a"):
                r = load(d, f"scale-{n}-{w}")
                cells += ([f"{r['throughput_rps']:.0f}", ms(r["latency_us"]["p99"])]
                          if r else ["", ""])
            disk = (load(d, f"scale-{n}-disk") or {}).get("data_dir_kib")
            out.append(f"| {n} | {prep.get('items_per_s', 0):.0f} | " + " | ".join(cells) +
                       f" | {mib(disk)} |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
