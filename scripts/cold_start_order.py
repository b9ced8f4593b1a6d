#!/usr/bin/env python3
"""Writes cmake/cold_start.order: every function a cold start runs, for the linker to group.

A cold start's resident memory is mostly crud-api's text, which the kernel maps 64 KiB at a
time around each page touched. Left in link order, the few hundred kilobytes of code a cold
start runs are spread over most of the 6.5 MiB of text. lld's --symbol-ordering-file places
the sections holding the listed symbols first, together (cmake/static_runtime.cmake), so a
cold start touches far fewer windows (docs/decisions/0023-cold-start-code-layout.md).

The list is what callgrind saw run, in first-seen order, in these cold starts of BUILD_DIR's
crud-api:
- `lambda` on DynamoDB (dynalite, from node_modules) against a Runtime API stand-in, serving
  one GET /items/{id};
- `invoke` of that GET on DynamoDB, then on SQLite.

    scripts/cold_start_order.py BUILD_DIR [--out cmake/cold_start.order]   (`make cold-order`)

Regenerate it after changes to what start-up runs. A stale list costs memory, never
correctness: names it lists that no longer exist are skipped by the linker.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "package"))
from bench_invoke import create_item, event_for, start_dynalite, store_envs  # noqa: E402
from package_check import runtime_stand_in  # noqa: E402

FUNCTION = re.compile(r"^c?fn=\(\d+\) (\S+)$")


def die(message):
    print(f"cold-start-order: {message}", file=sys.stderr)
    sys.exit(1)


def profiled(argv, env, out_file, timeout=300):
    """Runs argv under callgrind; returns the mangled names it saw run, in first-seen order.

    `lambda` exits 1 once the stand-in has no more events (its /next answers 500): what it
    posted is checked instead.
    """
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no",
                           f"--callgrind-out-file={out_file}"] + argv,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0 and argv[1] != "lambda":
        die(f"{argv[1]} under callgrind exited {proc.returncode}: {proc.stderr[-400:]}")
    names = []
    with open(out_file) as f:
        for line in f:
            m = FUNCTION.match(line.rstrip("\n"))
            # Addresses and "(below main)" name no symbol the linker could place.
            if m and not m.group(1).startswith(("0x", "(")):
                names.append(m.group(1))
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--out", default=os.path.join(ROOT, "cmake", "cold_start.order"))
    args = parser.parse_args()
    binary = os.path.join(os.path.abspath(args.build), "crud-api")
    if not os.access(binary, os.X_OK):
        die(f"no {binary}; build it first")
    if subprocess.run(["valgrind", "--version"], capture_output=True).returncode != 0:
        die("valgrind is missing (apt-get install valgrind)")
    server, port = start_dynalite()
    stand_in = runtime_stand_in()
    seen = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _, ddb_env, sqlite_env = store_envs(port, "cold_order", os.path.join(tmp, "items.db"))
            subprocess.run([binary, "init"], env=ddb_env, check=True, capture_output=True)
            # The Lambda path first, SQLite's last: what runs in production is packed tightest,
            # and SQLite's code is one 1 MiB section that would otherwise sit in its middle.
            runs = []
            for who, env in (("ddb", ddb_env), ("sqlite", sqlite_env)):
                item_id = create_item(binary, env, tmp)
                event = event_for("GET", f"/items/{item_id}")
                path = os.path.join(tmp, f"get-{who}.json")
                with open(path, "w") as f:
                    json.dump(event, f)
                if who == "ddb":
                    stand_in.reset([("req-order-0001", json.dumps(event))])
                    runs.append(([binary, "lambda"],
                                 dict(env, AWS_LAMBDA_RUNTIME_API=stand_in.endpoint(),
                                      _HANDLER="all", LAMBDA_TASK_ROOT=ROOT,
                                      AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128")))
                runs.append(([binary, "invoke", "--event", path], env))
            for i, (argv, env) in enumerate(runs):
                for name in profiled(argv, env, os.path.join(tmp, f"callgrind.{i}")):
                    seen.setdefault(name, None)
            if not stand_in.posts or stand_in.posts[0][0] != "response":
                die(f"lambda under callgrind posted {stand_in.posts!r}")
    finally:
        stand_in.close()
        server.terminate()
        server.wait()

    if len(seen) < 500:
        die(f"only {len(seen)} functions seen: is {binary} stripped?")
    with open(args.out, "w") as f:
        f.write("".join(f"{name}\n" for name in seen))
    print(f"cold-start-order: {len(seen)} functions -> {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
