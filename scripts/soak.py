#!/usr/bin/env python3
"""The soak (docs/reliability.md, "Soak"): `crud-api serve` on SQLite under a mixed load at
about 70% of its capacity for SOAK_SECONDS (default 600).

It measures the capacity first (wrk, unpaced, for SOAK_CAPACITY_SECONDS), then runs the paced
load (scripts/soak.lua) one minute at a time, reporting each minute's p99 latency and the
server's RSS. Afterwards it stops the server and checks the database: every acknowledged write
is there (each item at its last acknowledged version, deleted ones gone) and
`PRAGMA integrity_check` says ok. It fails on any status other than the expected ones (409 and
412 included), on RSS growing by more than 5%, or on a missing write.

Usage: scripts/soak.py [BUILD_DIR]   (env: SOAK_SECONDS, SOAK_CAPACITY_SECONDS, SOAK_THREADS,
SOAK_LOAD (fraction of capacity, default 0.7), SOAK_OUT (a JSON report file))
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = {"post 201", "get 200", "list 200", "put 200", "put-stale 412", "delete 200",
            "put 409", "put 412", "delete 409", "delete 412", "put-stale 409"}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_wrk(port, seconds, threads, rate, acks):
    env = dict(os.environ, SOAK_RATE=str(rate), SOAK_ACKS=acks)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(threads), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", os.path.join(ROOT, "scripts", "soak.lua"), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("SOAK "))
    return json.loads(line[5:])


def check_database(db, acks_dir):
    expected = {}  # id -> version, or None when deleted
    in_flight = {}  # id -> "P" or "X": sent, unanswered when wrk stopped
    acknowledged = 0
    for name in sorted(os.listdir(acks_dir)):
        with open(os.path.join(acks_dir, name)) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                kind, item = parts[0], parts[1]
                if kind in ("P", "X"):
                    in_flight[item] = kind
                    continue
                in_flight.pop(item, None)
                if kind in ("C", "U"):
                    expected[item] = int(parts[2])
                    acknowledged += 1
                elif kind == "D":
                    expected[item] = None
                    acknowledged += 1
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = dict(conn.execute("SELECT id, version FROM items WHERE deleted_at IS NULL"))
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()

    def holds(item, version):
        now = rows.get(item)
        if now == version:
            return True
        # A write still in flight when its minute ended may or may not have been applied.
        pending = in_flight.get(item)
        if pending == "P" and version is not None:
            return now == version + 1
        if pending == "X":
            return now is None
        return False

    wrong = [i for i, v in expected.items() if not holds(i, v)]
    return {"acknowledged_writes": acknowledged, "items_checked": len(expected),
            "in_flight_at_a_minute_end": len(in_flight), "wrong_or_missing": len(wrong),
            "examples": wrong[:5], "integrity_check": integrity}


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    binary = os.path.join(build, "crud-api")
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    capacity_seconds = int(os.environ.get("SOAK_CAPACITY_SECONDS", "10"))
    threads = int(os.environ.get("SOAK_THREADS", "8"))
    load = float(os.environ.get("SOAK_LOAD", "0.7"))
    work = tempfile.mkdtemp(prefix="crud-soak-")
    db = os.path.join(work, "items.db")
    acks_dir = os.path.join(work, "acks")
    os.makedirs(acks_dir)

    server = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db, "--rate-limit", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    report = {"load_average_start": load_average()}
    try:
        port = None
        for line in server.stdout:
            m = re.search(r'"message":"listening".*"port":(\d+)', line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            sys.exit("soak: the server did not start")
        # Drain the request log, which would otherwise fill the pipe and stall the server.
        subprocess.Popen(["cat"], stdin=server.stdout, stdout=subprocess.DEVNULL)

        capacity = run_wrk(port, capacity_seconds, threads, 0, os.path.join(acks_dir, "capacity"))
        capacity_rps = capacity["requests"] / capacity["seconds"]
        target = capacity_rps * load
        report.update(capacity_rps=round(capacity_rps), target_rps=round(target),
                      rss_kib=[rss_kib(server.pid)], minutes=[])
        print(f"soak: capacity {capacity_rps:.0f} req/s (p99 {capacity['p99_ms']:.2f} ms); "
              f"offering {target:.0f} req/s for {seconds} s", flush=True)

        statuses = {}
        for k, v in capacity["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        transport_errors = sum(capacity["errors"].values())
        left = seconds
        minute = 0
        while left > 0:
            minute += 1
            chunk = min(60, left)
            left -= chunk
            r = run_wrk(port, chunk, threads, target / threads,
                        os.path.join(acks_dir, f"minute{minute:02d}"))
            rss = rss_kib(server.pid)
            report["rss_kib"].append(rss)
            for k, v in r["statuses"].items():
                statuses[k] = statuses.get(k, 0) + v
            transport_errors += sum(r["errors"].values())
            unexpected = sum(v for k, v in r["statuses"].items() if k not in EXPECTED)
            entry = {"minute": minute, "rps": round(r["requests"] / r["seconds"]),
                     "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "max_ms": r["max_ms"],
                     "rss_kib": rss, "unexpected": unexpected + sum(r["errors"].values()),
                     "load_average": load_average()}
            report["minutes"].append(entry)
            print(f"soak: minute {minute}: {entry['rps']} req/s, p99 {r['p99_ms']:.2f} ms, "
                  f"max {r['max_ms']:.1f} ms, RSS {rss} KiB, unexpected {entry['unexpected']}, "
                  f"load {entry['load_average']}", flush=True)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    report["server_exit"] = server.returncode
    report["statuses"] = statuses
    report["transport_errors"] = transport_errors
    report["unexpected_statuses"] = {k: v for k, v in statuses.items() if k not in EXPECTED}
    report["database"] = check_database(db, acks_dir)
    # RSS before the paced load, then after each minute. The first minute is warm-up (SQLite's
    # page caches fill, the allocator settles): "start" is the end of it.
    rss = report["rss_kib"]
    paced = rss[1:] if len(rss) > 2 else rss
    start, middle, end = paced[0], paced[(len(paced) - 1) // 2], paced[-1]
    report["rss_start_middle_end_kib"] = [start, middle, end]
    report["rss_growth"] = round((end - start) / start, 4) if start else None
    report["load_average_end"] = load_average()
    print(json.dumps(report, indent=1))
    if os.environ.get("SOAK_OUT"):
        with open(os.environ["SOAK_OUT"], "w") as f:
            json.dump(report, f, indent=1)
    failures = []
    if report["unexpected_statuses"] or transport_errors:
        failures.append("unexpected statuses or transport errors")
    # A run of one minute has no warmed-up start to compare with: its RSS is reported only.
    if len(rss) > 2 and start and abs(end - start) > 0.05 * start:
        failures.append("RSS moved by more than 5%")
    d = report["database"]
    if d["wrong_or_missing"] or d["integrity_check"] != "ok":
        failures.append("the database does not hold every acknowledged write")
    if report["server_exit"] != 0:
        failures.append(f"the server exited with {report['server_exit']}")
    subprocess.run(["rm", "-rf", work])
    if failures:
        sys.exit("soak: FAILED: " + "; ".join(failures))
    print("soak: passed")


if __name__ == "__main__":
    main()
