#!/usr/bin/env python3
"""Items per second of `crud-api export` and `crud-api import`, on SQLite and on DynamoDB
(dynalite from node_modules; moto_server too with BENCH_TRANSFER_MOTO=1), each against a
baseline measured in the same run on the same machine and the same data:

- SQLite: Python's sqlite3 module parsing the same JSON lines and inserting them with
  executemany in one transaction (import), or selecting and writing them (export), on a file in
  the same WAL + synchronous=FULL mode.
- DynamoDB: the AWS SDK for Python (boto3): batch_writer() (BatchWriteItem, 25 a request) for
  import, and a paginated Scan for export, against the same engine.

    scripts/bench_transfer.py [BUILD_DIR]     (default: build)

Environment: BENCH_TRANSFER_ITEMS (20000), BENCH_TRANSFER_MOTO=1. Servers bind 127.0.0.1 and
are stopped on exit.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RETENTION_S = 30 * 24 * 3600


def item_id(n):
    ulid = ""
    for _ in range(26):
        ulid = CROCKFORD[n % 32] + ulid
        n //= 32
    return "item_" + ulid


def write_lines(path, count):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            item = {"id": item_id(7_000_000 + i), "name": f"Item {i}",
                    "description": "A description of some length for item %d" % i,
                    "createdAt": "2026-12-01T10:00:00.000Z",
                    "updatedAt": "2026-12-01T10:00:00.000Z", "version": 1 + i % 4}
            if i % 10 == 0:
                item["deletedAt"] = "2026-12-01T11:00:00.000Z"
            f.write(json.dumps({"owner": f"owner-{i % 10}", "item": item},
                               separators=(",", ":")) + "\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: the engine on port {port} exited at start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"bench: nothing listens on port {port}")


def timed(args, env):
    start = time.monotonic()
    done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{done.stderr.decode()}")
    return seconds


# --- baselines ------------------------------------------------------------------------------

def sqlite_baseline_import(path, lines_file):
    start = time.monotonic()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS items (owner TEXT NOT NULL, id TEXT NOT NULL, "
               "name TEXT NOT NULL, description TEXT NOT NULL, created_at TEXT NOT NULL, "
               "updated_at TEXT NOT NULL, version INTEGER NOT NULL, deleted_at TEXT, "
               "expires_at INTEGER, PRIMARY KEY (owner, id)) WITHOUT ROWID")
    rows = []
    with open(lines_file, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            it = r["item"]
            rows.append((r["owner"], it["id"], it["name"], it["description"], it["createdAt"],
                         it["updatedAt"], it["version"], it.get("deletedAt"),
                         it.get("expiresAt")))
    db.execute("BEGIN")
    db.executemany("INSERT OR IGNORE INTO items VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
    db.close()
    return time.monotonic() - start


def sqlite_baseline_export(path, out_file):
    start = time.monotonic()
    db = sqlite3.connect(path)
    with open(out_file, "w", encoding="utf-8") as f:
        for row in db.execute("SELECT * FROM items ORDER BY owner, id"):
            item = {"id": row[1], "name": row[2], "description": row[3], "createdAt": row[4],
                    "updatedAt": row[5], "version": row[6]}
            if row[7] is not None:
                item["deletedAt"] = row[7]
            f.write(json.dumps({"owner": row[0], "item": item}, separators=(",", ":")) + "\n")
    db.close()
    return time.monotonic() - start


def boto3_client(endpoint):
    import boto3  # moto's dependency: in the image's Python
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")


def boto3_baseline_import(endpoint, table, lines_file):
    t = boto3_client(endpoint).Table(table)
    start = time.monotonic()
    with open(lines_file, encoding="utf-8") as f, t.batch_writer() as batch:
        for line in f:
            r = json.loads(line)
            item = dict(r["item"])
            item["pk"] = "OWNER#" + r["owner"]
            item["sk"] = "ITEM#" + item["id"]
            batch.put_item(Item=item)
    return time.monotonic() - start


def boto3_baseline_export(endpoint, table, out_file):
    t = boto3_client(endpoint).Table(table)
    start = time.monotonic()
    kwargs = {}
    with open(out_file, "w", encoding="utf-8") as f:
        while True:
            page = t.scan(**kwargs)
            for item in page["Items"]:
                f.write(json.dumps(item, default=int, separators=(",", ":")) + "\n")
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return time.monotonic() - start


# --- runs -----------------------------------------------------------------------------------

def row(store, operation, count, seconds, baseline_name, baseline_seconds):
    rate = count / seconds
    base = count / baseline_seconds
    print(f"{store:<9} {operation:<22} {count:>7} {seconds:>8.2f} s {rate:>10.0f}/s   "
          f"{baseline_name:<26} {base:>9.0f}/s  {rate / base:>6.2f}x")


def dynamodb_rows(binary, label, endpoint, lines_file, tmp, count):
    env = dict(os.environ, CRUD_STORE="dynamodb", DYNAMODB_ENDPOINT=endpoint,
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_CONFIG_FILE="/dev/null")
    for table in ("bench_ours", "bench_sdk"):
        timed([binary, "init", "--table", table], env)
    base_import = boto3_baseline_import(endpoint, "bench_sdk", lines_file)
    ours_import = timed([binary, "import", "--table", "bench_ours", "--in", lines_file], env)
    ours_rerun = timed([binary, "import", "--table", "bench_ours", "--in", lines_file], env)
    ours_overwrite = timed([binary, "import", "--table", "bench_ours", "--in", lines_file,
                            "--overwrite"], env)
    base_export = boto3_baseline_export(endpoint, "bench_sdk", os.path.join(tmp, "sdk.jsonl"))
    ours_export = timed([binary, "export", "--table", "bench_ours", "--out",
                         os.path.join(tmp, f"{label}.jsonl")], env)
    row(label, "import (new items)", count, ours_import, "boto3 batch_writer", base_import)
    row(label, "import (all skipped)", count, ours_rerun, "boto3 batch_writer", base_import)
    row(label, "import --overwrite", count, ours_overwrite, "boto3 batch_writer", base_import)
    row(label, "export", count, ours_export, "boto3 paginated Scan", base_export)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.abspath(os.path.join(build, "crud-api"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"bench: no {binary}; build it first (make build)")
    count = int(os.environ.get("BENCH_TRANSFER_ITEMS", "20000"))
    tmp = tempfile.mkdtemp(prefix="crud-bench-transfer-")
    engines = []
    try:
        lines_file = os.path.join(tmp, "items.jsonl")
        write_lines(lines_file, count)
        print(f"bench: export and import of {count} items over 10 owners on {os.cpu_count()} "
              f"CPUs, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}", file=sys.stderr)
        print(f"{'store':<9} {'operation':<22} {'items':>7} {'time':>10} {'ours':>12}   "
              f"{'baseline (same run)':<26} {'baseline':>11}  {'ratio':>6}")

        env = dict(os.environ, CRUD_STORE="sqlite")
        db = os.path.join(tmp, "ours.db")
        ours_import = timed([binary, "import", "--db", db, "--in", lines_file], env)
        ours_rerun = timed([binary, "import", "--db", db, "--in", lines_file], env)
        ours_export = timed([binary, "export", "--db", db, "--out",
                             os.path.join(tmp, "ours.jsonl")], env)
        base_import = sqlite_baseline_import(os.path.join(tmp, "base.db"), lines_file)
        base_export = sqlite_baseline_export(os.path.join(tmp, "base.db"),
                                             os.path.join(tmp, "base.jsonl"))
        row("sqlite", "import (new items)", count, ours_import, "python sqlite3 executemany",
            base_import)
        row("sqlite", "import (all skipped)", count, ours_rerun, "python sqlite3 executemany",
            base_import)
        row("sqlite", "export", count, ours_export, "python sqlite3 + json", base_export)

        dynalite = os.path.join(ROOT, "node_modules", "dynalite", "cli.js")
        if os.path.exists(dynalite) and shutil.which("node"):
            port = free_port()
            engines.append(subprocess.Popen(
                ["node", dynalite, "--host", "127.0.0.1", "--port", str(port),
                 "--createTableMs", "20"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_port(port, engines[-1])
            dynamodb_rows(binary, "dynalite", f"http://127.0.0.1:{port}", lines_file, tmp, count)
        else:
            print("bench: node_modules/dynalite is missing (npm ci): no dynalite rows",
                  file=sys.stderr)

        if os.environ.get("BENCH_TRANSFER_MOTO") == "1" and shutil.which("moto_server"):
            port = free_port()
            engines.append(subprocess.Popen(
                ["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_port(port, engines[-1])
            dynamodb_rows(binary, "moto", f"http://127.0.0.1:{port}", lines_file, tmp, count)
    finally:
        for engine in engines:
            engine.terminate()
        for engine in engines:
            try:
                engine.wait(timeout=10)
            except subprocess.TimeoutExpired:
                engine.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
