"""The progress bar of `crud-api import` and `export`: drawn on stderr when it is a terminal
(here a pseudo-terminal from Python's pty module), never when stderr is a pipe, and followed in
both cases by exactly one JSON summary line.

CRUD_BINARY names the binary under test (CTest sets it).
"""

import json
import os
import pty
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("CRUD_BINARY", "build/crud-api")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def item_id(n):
    ulid = ""
    for _ in range(26):
        ulid = CROCKFORD[n % 32] + ulid
        n //= 32
    return "item_" + ulid


def write_lines(path, count):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            item = {"id": item_id(5_000_000 + i), "name": f"Item {i}", "description": "",
                    "createdAt": "2026-12-01T10:00:00.000Z",
                    "updatedAt": "2026-12-01T10:00:00.000Z", "version": 1}
            f.write(json.dumps({"owner": f"owner-{i % 3}", "item": item}) + "\n")


def environment(db):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CRUD_", "AWS_", "DYNAMODB_")) and k != "TABLE_NAME"}
    env["CRUD_DB"] = db
    return env


def run_on_terminal(args, env):
    """Runs crud-api with stderr on a pseudo-terminal; returns (exit code, what it drew)."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen([BINARY, *args], env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=slave)
    finally:
        os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return child.wait(timeout=60), drawn.decode("utf-8")


def summary(text):
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    last = lines[-1]
    # On a terminal the summary follows the bar's last line; the JSON starts at the brace.
    return json.loads(last[last.index("{"):]), lines


class ProgressBarTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="crud-progress-")
        self.input = os.path.join(self.dir.name, "in.jsonl")
        write_lines(self.input, 5000)

    def tearDown(self):
        self.dir.cleanup()

    def test_import_draws_a_bar_with_percentage_on_a_terminal(self):
        code, drawn = run_on_terminal(["import", "--in", self.input],
                                      environment(os.path.join(self.dir.name, "a.db")))
        self.assertEqual(code, 0, drawn)
        self.assertIn("\rimported ", drawn)
        self.assertIn("\x1b[K", drawn)
        self.assertRegex(drawn, r"\[[#.]{20}\]\s+\d+%")
        self.assertIn("100%", drawn)
        result, lines = summary(drawn)
        self.assertEqual(result["imported"], 5000)
        self.assertEqual(sum(1 for line in lines if '"imported"' in line and "{" in line), 1)

    def test_export_draws_count_and_rate_on_a_terminal(self):
        env = environment(os.path.join(self.dir.name, "b.db"))
        subprocess.run([BINARY, "import", "--in", self.input], env=env, check=True,
                       stderr=subprocess.DEVNULL)
        out = os.path.join(self.dir.name, "out.jsonl")
        code, drawn = run_on_terminal(["export", "--out", out], env)
        self.assertEqual(code, 0, drawn)
        self.assertRegex(drawn, r"\rexported \d+ items  \d+/s")
        self.assertEqual(summary(drawn)[0]["exported"], 5000)

    def test_no_bar_when_stderr_is_a_pipe(self):
        done = subprocess.run([BINARY, "import", "--in", self.input],
                              env=environment(os.path.join(self.dir.name, "c.db")),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=60, check=False)
        err = done.stderr.decode("utf-8")
        self.assertEqual(done.returncode, 0, err)
        self.assertNotIn("\r", err)
        self.assertNotIn("\x1b", err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertEqual(json.loads(err)["imported"], 5000)


if __name__ == "__main__":
    unittest.main()
