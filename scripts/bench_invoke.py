#!/usr/bin/env python3
"""make bench's cold-start rows, each process started anew as a cold start is:

- one-shot `crud-api invoke` of GET /items/{id} on SQLite, and on DynamoDB (dynalite, from
  node_modules) against the same GetItem handler in Node.js 20 with the AWS SDK v3
  (bench/node, pinned by its own lockfile), on the same table;
- `crud-api lambda` against a Runtime API stand-in (tests/package/package_check.py's), from the
  exec to its first GET /invocation/next (init: on DynamoDB that includes reading the cursor
  secret, which also primes the connection) and to its first posted response (one GET
  /items/{id}), on both stores;
- the floor: /bin/true, spawned the same way.

All kinds are interleaved, one sample of each per round after two warm-up rounds (the page
cache, not the process), so that drift on a shared machine hits them alike. Wall time is from
spawn to exit (or to the stand-in's timestamp), with nothing spawned in between; peak RSS is
/usr/bin/time's, from a second run of the same command. An answer that is not 200 with the item
fails the run.

    scripts/bench_invoke.py BUILD_DIR [--results FILE]   (BENCH_INVOKE_RUNS, default 15)

Prints a summary; with --results, also appends one JSON line of samples per row to FILE
(scripts/bench_report.py reads them).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "package"))
from package_check import runtime_stand_in  # noqa: E402  (the path is set just above)


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


def start_dynalite():
    """Starts dynalite (node_modules) on a free loopback port; returns (process, port)."""
    dynalite = os.path.join(ROOT, "node_modules", "dynalite", "cli.js")
    if not os.path.exists(dynalite):
        die("node_modules/dynalite is missing (npm ci)")
    port = free_port()
    proc = subprocess.Popen(["node", dynalite, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
    except SystemExit:
        proc.kill()
        raise
    return proc, port


def store_envs(port, table, db_path):
    """The environments of a cold start: (base, on DynamoDB at port, on SQLite at db_path).

    Credentials are fixed and no shared config is read, so the caller's own AWS setup and
    any crud-api settings it exports cannot change what is measured.
    """
    base = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                AWS_REGION="us-east-1", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                AWS_CONFIG_FILE="/dev/null")
    for name in ("AWS_LAMBDA_RUNTIME_API", "_HANDLER", "CRUD_STORE", "CRUD_DB"):
        base.pop(name, None)
    ddb_env = dict(base, DYNAMODB_ENDPOINT=f"http://127.0.0.1:{port}", TABLE_NAME=table,
                   CRUD_STORE="dynamodb")
    return base, ddb_env, dict(base, CRUD_STORE="sqlite", CRUD_DB=db_path)


def spawn(argv, env, stdout_path, stderr_path):
    """Starts argv by posix_spawn (vfork and exec), stdin from /dev/null; returns its pid.

    The files are opened before the spawn, so a clock started just before this call only sees
    the child inherit them.
    """
    fds = [os.open(os.devnull, os.O_RDONLY),
           os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
           os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    try:
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
        return os.posix_spawnp(argv[0], argv, env, file_actions=actions)
    finally:
        for fd in fds:
            os.close(fd)


def spawn_and_wait(argv, env, out_file):
    """Spawns argv with stdout to out_file; returns (wall ms from spawn to exit, exit status).

    Straight from this process: the clock covers the program's own exec, run and exit, and no
    process in between (a fork of this interpreter, a wrapper's exec), whose fixed cost would
    add alike to every row and shrink every ratio.
    """
    start = time.perf_counter()
    pid = spawn(argv, env, out_file, out_file + ".err")
    _, status, _ = os.wait4(pid, 0)
    return (time.perf_counter() - start) * 1000, os.waitstatus_to_exitcode(status)


def run_once(argv, env, rss_file):
    """Runs argv twice; returns (wall ms, peak RSS KiB, stdout of the timed run).

    The wall time is spawn_and_wait's. The peak RSS comes from a second run under
    /usr/bin/time: a child's ru_maxrss also counts the memory of the process that spawned it
    (Linux records the old image's high-water mark at exec), which for this interpreter is
    more than crud-api's own, while /usr/bin/time is a small C program. That run is not timed,
    since the wrapper's own exec and fork would be in it.
    """
    out_file = rss_file + ".out"
    wall, code = spawn_and_wait(argv, env, out_file)
    with open(out_file, "rb") as f:
        out = f.read()
    if code != 0:
        with open(out_file + ".err", "rb") as f:
            die(f"{argv[0]} exited {code}: {f.read()[-300:]!r}")
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT)
    if proc.returncode != 0:
        die(f"{argv[0]} exited {proc.returncode} under /usr/bin/time: {proc.stderr[-300:]!r}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss, out


def check_answer(out, item_id, who):
    try:
        answer = json.loads(out)
        body = json.loads(answer["body"])
    except (ValueError, KeyError, TypeError):
        die(f"{who} did not answer a proxy response: {out[:200]!r}")
    if answer.get("statusCode") != 200 or body.get("data", {}).get("id") != item_id:
        die(f"{who} did not answer 200 with the item: {out[:200]!r}")


def event_for(method, path, body=None):
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": method, "path": path},
                               "requestId": "bench", "stage": "$default"},
            "pathParameters": {"id": path.rsplit("/", 1)[-1]},
            "body": body, "isBase64Encoded": False}


def create_item(binary, env, tmp):
    post = os.path.join(tmp, "post.json")
    with open(post, "w") as f:
        json.dump(event_for("POST", "/items", json.dumps(
            {"name": "Sample Item", "description": "This is a sample item"})), f)
    created = subprocess.run([binary, "invoke", "--event", post], env=env, check=True,
                             capture_output=True).stdout
    return json.loads(json.loads(created)["body"])["data"]["id"]


def lambda_once(binary, env, stand_in, event, item_id, who):
    """One `crud-api lambda` start: (ms to the first /next, ms to the first response)."""
    stand_in.reset([("req-bench-0001", event)])
    err_file = os.path.join(tempfile.gettempdir(), f"bench-lambda-{os.getpid()}.err")
    t0 = time.monotonic_ns()
    pid = spawn([binary, "lambda"], env, os.devnull, err_file)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            die(f"{who}: the runtime did not exit by itself")
        time.sleep(0.001)
    with open(err_file, "rb") as f:
        err = f.read()
    os.unlink(err_file)
    posts = stand_in.posts
    if not posts or posts[0][0] != "response":
        die(f"{who}: posted {posts!r}; stderr {err[-500:]!r}")
    check_answer(posts[0][2], item_id, who)
    return (stand_in.first_next_ns - t0) / 1e6, (stand_in.first_post_ns - t0) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--results", help="append the samples as JSON lines to this file")
    args = parser.parse_args()
    os.chdir(ROOT)  # where every command runs, as spawn_and_wait cannot set a child's own
    build = os.path.abspath(args.build)
    binary = os.path.join(build, "crud-api")
    runs = int(os.environ.get("BENCH_INVOKE_RUNS", "15"))
    if runs < 10:
        die("BENCH_INVOKE_RUNS must be at least 10")
    if not os.access(binary, os.X_OK):
        die(f"no {binary}; build it first")
    if not os.access("/usr/bin/time", os.X_OK):
        die("/usr/bin/time is missing (scripts/install-deps.sh installs the time package)")
    node_dir = os.path.join(ROOT, "bench", "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=node_dir, check=True, stdout=subprocess.DEVNULL)
    proc, port = start_dynalite()
    stand_in = runtime_stand_in()
    samples = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base, ddb_env, sqlite_env = store_envs(port, "bench_invoke",
                                                   os.path.join(tmp, "items.db"))
            subprocess.run([binary, "init"], env=ddb_env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ddb_item = create_item(binary, ddb_env, tmp)
            sqlite_item = create_item(binary, sqlite_env, tmp)
            get_events = {}
            for who, item_id in (("ddb", ddb_item), ("sqlite", sqlite_item)):
                get_events[who] = os.path.join(tmp, f"get-{who}.json")
                with open(get_events[who], "w") as f:
                    json.dump(event_for("GET", f"/items/{item_id}"), f)
            lambda_env = {"AWS_LAMBDA_RUNTIME_API": stand_in.endpoint(), "_HANDLER": "all",
                          "LAMBDA_TASK_ROOT": build, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
            rss = os.path.join(tmp, "rss")

            def invoke(env, event, item_id, who):
                def sample():
                    wall, kib, out = run_once([binary, "invoke", "--event", event], env, rss)
                    check_answer(out, item_id, who)
                    return {"wall_ms": wall, "rss_kib": kib}
                return sample

            def node_invoke():
                wall, kib, out = run_once(
                    ["node", os.path.join(node_dir, "get_item.mjs"), get_events["ddb"]],
                    ddb_env, rss)
                check_answer(out, ddb_item, "node")
                return {"wall_ms": wall, "rss_kib": kib}

            def floor():
                wall, kib, _ = run_once(["/bin/true"], base, rss)
                return {"wall_ms": wall, "rss_kib": kib}

            def lambda_start(env, item_id, who):
                with open(get_events[who]) as f:
                    event = f.read()

                def sample():
                    to_next, to_response = lambda_once(binary, dict(env, **lambda_env), stand_in,
                                                       event, item_id, f"lambda on {who}")
                    return {"next_ms": to_next, "response_ms": to_response}
                return sample

            kinds = {
                "floor": floor,
                "invoke_sqlite": invoke(sqlite_env, get_events["sqlite"], sqlite_item, "sqlite"),
                "invoke_dynamodb": invoke(ddb_env, get_events["ddb"], ddb_item, "dynalite"),
                "invoke_node": node_invoke,
                "lambda_sqlite": lambda_start(sqlite_env, sqlite_item, "sqlite"),
                "lambda_dynamodb": lambda_start(ddb_env, ddb_item, "ddb"),
            }
            samples = {k: [] for k in kinds}
            for i in range(runs + 2):
                for key, take in kinds.items():
                    s = take()
                    if i >= 2:
                        samples[key].append(s)
    finally:
        stand_in.close()
        proc.terminate()
        proc.wait()

    if args.results:
        with open(args.results, "a") as f:
            for key, rows in samples.items():
                f.write(json.dumps({"type": "cold", "key": key, "samples": rows}) + "\n")

    def median(key, field):
        return statistics.median(s[field] for s in samples[key])

    print(f"cold start, median of {runs}: crud-api invoke {median('invoke_dynamodb', 'wall_ms'):.1f}"
          f" ms on dynalite against Node 20 + SDK v3 {median('invoke_node', 'wall_ms'):.1f} ms"
          f" ({median('invoke_node', 'wall_ms') / median('invoke_dynamodb', 'wall_ms'):.1f}x);"
          f" lambda exec -> first next: sqlite {median('lambda_sqlite', 'next_ms'):.1f} ms,"
          f" dynalite {median('lambda_dynamodb', 'next_ms'):.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
