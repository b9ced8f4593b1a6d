#!/usr/bin/env python3
"""Mutation testing of the security- and durability-critical lines (`make mutate`).

Each mutation below is a plausible one-line bug on a line that matters: a MAC compared on the
attacker's length, a pragma that gives up fsync, an acknowledgement sent before COMMIT. For each,
the tool patches a scratch copy of the tree, rebuilds only the test binaries that cover the
line, runs them, and reports "killed" (a test failed, as it must) or "survived" (every test
still passed: the suite has a hole). A survivor, a mutation whose text is no longer in the
source, one that does not compile, or tests that fail before any mutation, all fail the run.

Mutations are found by their exact source text, never by line number, so code can move; the
text must occur exactly once in its file. `--smoke` runs the subset that `make test` runs.

The scratch copy lives in a fresh temporary directory (outside the tree), built at -O0 without
debug information, the quickest build that runs the tests; ccache is used when it is installed
and not disabled (CCACHE_DISABLE). See docs/decisions/0019-mutation-testing-and-power-cut.md.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The test binaries, by CMake target: where each lands in the build tree.
BINARIES = {
    "crud_core_test": "src/core/crud_core_test",
    "crud_app_test": "src/app/crud_app_test",
    "crud_aws_test": "src/aws/crud_aws_test",
    "crud_store_test": "src/store/crud_store_test",
    "crud_durability_test": "tests/durability/crud_durability_test",
}


@dataclass
class Mutation:
    name: str
    file: str
    find: str
    replace: str
    # (target, gtest filter) pairs; the mutation is killed when any of them fails.
    tests: list
    why: str
    smoke: bool = False
    targets: list = field(default_factory=list)

    def __post_init__(self):
        self.targets = sorted({t for t, _ in self.tests})


MUTATIONS = [
    Mutation(
        "jwt-hs256-mac-length", "src/core/jwt.cpp",
        "if (!constant_time_equal(as_view(mac), *signature))",
        "if (!constant_time_equal(as_view(mac).substr(0, signature->size()), *signature))",
        [("crud_core_test", "Jwt.*")],
        "HS256 compares only as many bytes as the token's signature has: an empty one passes",
        smoke=True),
    Mutation(
        "jwt-exp-check", "src/core/jwt.cpp",
        "return now_s > exp + leeway;",
        "return now_s > exp + 2 * leeway;",
        [("crud_core_test", "Jwt.*")],
        "an expired token is honoured for twice the leeway"),
    Mutation(
        "cursor-hmac-compare", "src/core/cursor.cpp",
        "return constant_time_equal(cursor.tag, mac(key, cursor.key_id, owner, cursor.last_id));",
        "return constant_time_equal(cursor.tag, "
        "mac(key, cursor.key_id, owner, cursor.last_id).substr(0, cursor.tag.size()));",
        [("crud_core_test", "Cursor.*")],
        "the cursor tag is compared on its own length: a 1-byte tag is a 1-in-256 forgery",
        smoke=True),
    Mutation(
        "cursor-owner-binding", "src/core/cursor.cpp",
        "message.append(owner);",
        "message.append(std::string_view());",
        [("crud_core_test", "Cursor.*")],
        "the cursor MAC leaves the owner out: one owner's cursor works for another"),
    Mutation(
        "idempotency-hash-omits-description", "src/app/idempotency.cpp",
        "canonical += fields.description;",
        "canonical += std::string_view();",
        [("crud_app_test", "*")],
        "a retry with another description replays the first response",
        smoke=True),
    Mutation(
        "restore-skips-if-match", "src/app/item_handlers.cpp",
        'const auto if_match = ctx.req.header("If-Match");',
        'const auto if_match = from == starting_from::live ? ctx.req.header("If-Match") '
        ": std::nullopt;",
        [("crud_app_test", "*")],
        "restore ignores If-Match, so it can undo a delete the client did not see"),
    Mutation(
        "if-match-comparison", "src/app/conditional.cpp",
        "return !weak && tag == etag;",
        "return !weak || tag == etag;",
        [("crud_app_test", "*")],
        "any strong ETag satisfies If-Match: lost updates"),
    Mutation(
        "body-limit-413", "src/app/api.cpp",
        "if (req.body.size() > max_body_bytes)",
        "if (req.body.size() > 2 * max_body_bytes)",
        [("crud_app_test", "*")],
        "bodies up to 128 KiB are accepted where the contract says 413 above 64 KiB"),
    Mutation(
        "sqlite-synchronous-off", "src/store/sqlite_connection.cpp",
        '"PRAGMA synchronous=FULL"',
        '"PRAGMA synchronous=OFF"',
        [("crud_durability_test", "SqlitePowerCut.*")],
        "no fsync at all: acknowledged writes are lost at a power cut (power-cut test alone)",
        smoke=True),
    Mutation(
        "sqlite-synchronous-normal", "src/store/sqlite_connection.cpp",
        '"PRAGMA synchronous=FULL"',
        '"PRAGMA synchronous=NORMAL"',
        [("crud_durability_test", "SqlitePowerCut.*")],
        "no fsync per commit in WAL mode: the last commits are lost at a power cut"),
    Mutation(
        "group-commit-ack-before-commit", "src/store/sqlite_writer.cpp",
        'if (const int rc = control("COMMIT"); rc != SQLITE_OK) {',
        'for (const auto& t : batch) t->finish(t->outcome); '
        'if (const int rc = control("COMMIT"); rc != SQLITE_OK) {',
        [("crud_durability_test", "SqlitePowerCut.*"),
         ("crud_store_test", "SqliteWriter.AJobsWritesRunInline*")],
        "writers are told 'done' before COMMIT (a blocked caller, or serve's write job answering "
        "its client): a cut during the commit loses acknowledged writes",
        smoke=True),
    Mutation(
        "sqlite-owner-scope", "src/store/sqlite_store.cpp",
        '"FROM items WHERE owner = ?1 AND id = ?2");',
        '"FROM items WHERE (owner = ?1 OR 1) AND id = ?2");',
        [("crud_store_test", "SqliteStore.*")],
        "SQLite get_item ignores the owner: anyone reads anyone's item by id"),
    Mutation(
        "dynamodb-owner-scope", "src/store/dynamodb_store.cpp",
        'return "OWNER#" + std::string(owner);',
        'return std::string("OWNER#");',
        [("crud_store_test", "DynamodbStore.*")],
        "every owner shares one DynamoDB partition"),
    Mutation(
        "sqlite-idempotency-fence", "src/store/sqlite_store.cpp",
        'db.prepare("DELETE FROM idempotency WHERE owner = ?1 AND key = ?2 AND claim_token = ?3");',
        'db.prepare("DELETE FROM idempotency WHERE owner = ?1 AND key = ?2 AND '
        '(claim_token = ?3 OR 1)");',
        [("crud_store_test", "SqliteStore.AStalledClaim*")],
        "a stalled SQLite request releases the claim of the retry that took its key over"),
    Mutation(
        "dynamodb-idempotency-fence", "src/store/dynamodb_store.cpp",
        'in.condition.values = {{":token", s(claim_token)}};',
        'in.condition.values = {{":token", s(claim_token)}};\n    in.condition = {};',
        [("crud_store_test", "DynamodbStore.AStalledClaim*")],
        "a stalled DynamoDB request releases the claim of the retry that took its key over"),
    Mutation(
        "sigv4-canonical-request", "src/aws/sigv4.cpp",
        "out.canonical_request.append(headers.signed_names).append(1, '\\n')"
        ".append(payload_hash);",
        "out.canonical_request.append(headers.signed_names).append(1, '\\n');",
        [("crud_aws_test", "Sigv4.*:*/Sigv4Suite.*")],
        "the signature no longer covers the body"),
    Mutation(
        "crc32-partial-header", "src/aws/dynamodb_client.cpp",
        "crc_ok = ec == std::errc() && end == crc_header.data() + crc_header.size() &&",
        "crc_ok = ec == std::errc() &&",
        [("crud_aws_test", "DynamodbClient.*:DynamodbCrc32.*")],
        "an x-amz-crc32 header is believed on its first digits"),
]


def log(msg):
    print(msg, flush=True)


def source_files():
    """The tree as git sees it: tracked and untracked files, without ignored ones."""
    out = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout
    return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


def copy_tree(dest):
    for rel in source_files():
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), target)
    # npm's packages (the build embeds some) are shared, never mutated.
    if os.path.isdir(os.path.join(ROOT, "node_modules")):
        os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(dest, "node_modules"))


def use_ccache():
    return shutil.which("ccache") is not None and os.environ.get("CCACHE_DISABLE", "") in ("", "0")


def build_env(scratch):
    env = dict(os.environ)
    if use_ccache():
        # Paths below the scratch directory hash alike from one run to the next.
        env["CCACHE_BASEDIR"] = scratch
        env["CCACHE_NOHASHDIR"] = "1"
    return env


def configure(src, build, env):
    cmd = ["cmake", "-S", src, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Debug",
           "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g0", "-DCRUD_STATIC_RUNTIME=OFF"]
    if use_ccache():
        cmd.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mutate: cmake failed in the scratch copy:\n" + r.stdout + r.stderr)


def build(build_dir, targets, env, jobs):
    r = subprocess.run(["cmake", "--build", build_dir, "-j", str(jobs), "--target", *targets],
                       env=env, capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def run_tests(build_dir, tests, timeout):
    """True when every test passed; the failures' tail otherwise."""
    env = dict(os.environ, CRUD_SOURCE_DIR=ROOT)
    for target, gtest_filter in tests:
        binary = os.path.join(build_dir, BINARIES[target])
        try:
            r = subprocess.run([binary, "--gtest_filter=" + gtest_filter, "--gtest_brief=1"],
                               cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"{target} {gtest_filter}: timed out after {timeout} s"
        if r.returncode != 0:
            failed = sorted({l.split("]", 1)[1].split("(")[0].strip()
                             for l in r.stdout.splitlines()
                             if l.startswith("[  FAILED  ]") and "(" in l})
            return False, "failed: " + (", ".join(failed) or f"{target} exit {r.returncode}")
    return True, ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="only the subset `make test` runs")
    parser.add_argument("--only", default="", help="comma-separated mutation names")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per test binary run")
    args = parser.parse_args()

    chosen = [m for m in MUTATIONS if not args.smoke or m.smoke]
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {m.name for m in MUTATIONS}
        if unknown:
            sys.exit("mutate: unknown mutation(s): " + ", ".join(sorted(unknown)))
        chosen = [m for m in chosen if m.name in names]
    if args.list:
        for m in chosen:
            log(f"{m.name:36} {'smoke' if m.smoke else '     '} {m.file}: {m.why}")
        return 0

    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix="crud-mutate-")
    src, build_dir = os.path.join(scratch, "src"), os.path.join(scratch, "build")
    env = build_env(scratch)
    try:
        log(f"mutate: {len(chosen)} mutation(s); scratch copy in {scratch}"
            f" ({'ccache' if use_ccache() else 'no ccache'})")
        copy_tree(src)
        configure(src, build_dir, env)
        targets = sorted({t for m in chosen for t in m.targets})
        t0 = time.monotonic()
        ok, out = build(build_dir, targets, env, args.jobs)
        if not ok:
            sys.exit("mutate: the unmutated scratch copy does not build:\n" + out)
        log(f"mutate: built {' '.join(targets)} in {time.monotonic() - t0:.0f} s")

        # Every test a mutation relies on must pass before anything is mutated, or a "killed"
        # would mean nothing.
        baseline = sorted({t for m in chosen for t in m.tests})
        ok, why = run_tests(build_dir, baseline, args.timeout)
        if not ok:
            sys.exit("mutate: tests fail before any mutation: " + why)

        rows, failed = [], False
        for m in chosen:
            path = os.path.join(src, m.file)
            with open(path, encoding="utf-8") as f:
                original = f.read()
            t0 = time.monotonic()
            count = original.count(m.find)
            if count != 1:
                verdict, detail = "not-found", f"the text occurs {count} times in {m.file}"
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original.replace(m.find, m.replace))
                try:
                    built, out = build(build_dir, m.targets, env, args.jobs)
                    if not built:
                        verdict, detail = "no-build", out.strip().splitlines()[-1:]
                    else:
                        passed, why = run_tests(build_dir, m.tests, args.timeout)
                        verdict, detail = ("survived", "every test passed") if passed else (
                            "killed", why)
                finally:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(original)
            failed |= verdict != "killed"
            seconds = time.monotonic() - t0
            rows.append((m.name, verdict, seconds, detail))
            log(f"mutate: {m.name}: {verdict} ({seconds:.0f} s) {detail}")

        log("")
        log(f"{'mutation':36} {'result':9} {'time':>6}")
        for name, verdict, seconds, _ in rows:
            log(f"{name:36} {verdict:9} {seconds:5.0f}s")
        killed = sum(1 for r in rows if r[1] == "killed")
        log(f"mutate: {killed}/{len(rows)} killed in {time.monotonic() - started:.0f} s")
        return 1 if failed else 0
    finally:
        if args.keep:
            log(f"mutate: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
