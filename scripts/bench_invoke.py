#!/usr/bin/env python3
"""make bench's cold-invoke row: one-shot `crud-api invoke` of GET /items/{id} on DynamoDB
(dynalite, from node_modules) against the same GetItem handler in Node.js 20 with the AWS SDK
v3 (bench/node, pinned by its own lockfile), on the same table, in the same run.

Each sample is one new process, as a cold start is. The two are interleaved so that drift on
a shared machine hits both alike. Wall time is from spawn to exit; peak RSS is the child's
ru_maxrss. A sample whose answer is not 200 with the item fails the row.

    scripts/bench_invoke.py BUILD_DIR        (BENCH_INVOKE_RUNS, default 15)
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die(message):
    print(f"bench-invoke: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die("dynalite exited at start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    die("dynalite did not start")


def run_once(argv, env, rss_file):
    """Spawns argv; returns (wall ms, peak RSS KiB, stdout).

    The peak RSS comes from /usr/bin/time: a child's ru_maxrss also counts the memory of the
    process that forked it (Linux records the old image's high-water mark at exec), which for
    a Python parent is more than crud-api's own. /usr/bin/time is a small C program, and both
    sides pay its few hundred microseconds alike.
    """
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT)
    wall = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        die(f"{argv[0]} exited {proc.returncode}: {proc.stderr[-300:]!r}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss, proc.stdout


def check_answer(out, item_id, who):
    answer = json.loads(out)
    body = json.loads(answer["body"])
    if answer.get("statusCode") != 200 or body.get("data", {}).get("id") != item_id:
        die(f"{who} did not answer 200 with the item: {out[:200]!r}")


def event_for(method, path, body=None):
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path},
                               "requestId": "bench", "stage": "$default"},
            "pathParameters": {"id": path.rsplit("/", 1)[-1]},
            "body": body, "isBase64Encoded": False}


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = os.path.join(build, "crud-api")
    runs = int(os.environ.get("BENCH_INVOKE_RUNS", "15"))
    if not os.access(binary, os.X_OK):
        die(f"no {binary}; build it first")
    if not os.access("/usr/bin/time", os.X_OK):
        die("/usr/bin/time is missing (scripts/install-deps.sh installs the time package)")
    node_dir = os.path.join(ROOT, "bench", "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=node_dir, check=True, stdout=subprocess.DEVNULL)
    dynalite = os.path.join(ROOT, "node_modules", "dynalite", "cli.js")
    if not os.path.exists(dynalite):
        die("node_modules/dynalite is missing (npm ci)")

    port = free_port()
    proc = subprocess.Popen(["node", dynalite, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        endpoint = f"http://127.0.0.1:{port}"
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                   AWS_REGION="us-east-1", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_CONFIG_FILE="/dev/null", DYNAMODB_ENDPOINT=endpoint,
                   TABLE_NAME="bench_invoke", CRUD_STORE="dynamodb")
        subprocess.run([binary, "init"], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with tempfile.TemporaryDirectory() as tmp:
            post = os.path.join(tmp, "post.json")
            with open(post, "w") as f:
                json.dump(event_for("POST", "/items", json.dumps(
                    {"name": "Sample Item", "description": "This is a sample item"})), f)
            created = subprocess.run([binary, "invoke", "--event", post], env=env, check=True,
                                     capture_output=True).stdout
            item_id = json.loads(json.loads(created)["body"])["data"]["id"]
            get = os.path.join(tmp, "get.json")
            with open(get, "w") as f:
                json.dump(event_for("GET", f"/items/{item_id}"), f)

            ours_argv = [binary, "invoke", "--event", get]
            node_argv = ["node", os.path.join(node_dir, "get_item.mjs"), get]
            samples = {"crud-api": [], "node": []}
            for i in range(runs + 2):  # two warm-ups: the page cache, not the process
                for who, argv in (("crud-api", ours_argv), ("node", node_argv)):
                    wall, rss, out = run_once(argv, env, os.path.join(tmp, "rss"))
                    check_answer(out, item_id, who)
                    if i >= 2:
                        samples[who].append((wall, rss))
    finally:
        proc.terminate()
        proc.wait()

    def summary(who):
        walls = sorted(w for w, _ in samples[who])
        rss = statistics.median(r for _, r in samples[who]) / 1024
        return statistics.median(walls), walls[0], walls[-1], rss

    ours, node = summary("crud-api"), summary("node")
    print(f"cold invoke, GET /items/{{id}} on dynalite, median of {runs} (min-max):")
    print(f"  {'crud-api invoke':<28} {ours[0]:8.1f} ms ({ours[1]:.1f}-{ours[2]:.1f})"
          f"  peak RSS {ours[3]:6.1f} MiB")
    print(f"  {'node 20 + AWS SDK v3':<28} {node[0]:8.1f} ms ({node[1]:.1f}-{node[2]:.1f})"
          f"  peak RSS {node[3]:6.1f} MiB")
    print(f"  ratio: {node[0] / ours[0]:.1f}x faster, {node[3] / ours[3]:.1f}x less memory"
          f" (goal: 50x, 8x)")


if __name__ == "__main__":
    main()
