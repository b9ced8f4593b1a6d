#!/usr/bin/env python3
"""Runs the README's walkthrough as a newcomer would, and checks what it says.

Every shell block of the sections in RUN_SECTIONS runs in order, in one bash session, from a
fresh temporary directory that holds links to the binary (`build/crud-api`), `examples/` and
`node_modules/`, so the SQLite data (`./data/`) starts empty. The only rewrites:

- the README's ports (8080 for `make run`, 8090-8092 for second servers, 8000 for dynalite)
  become free ports of this machine, so the test never clashes with a real `make run`;
- `make run` itself is started by the test as `build/crud-api serve` (what the Makefile runs),
  since the README keeps it going in another terminal;
- a command that starts a server (ending in `&`, or a `build/crud-api serve` in the
  foreground) runs in the background, and the test waits for its port before going on;
- the real-AWS block of "On DynamoDB" gets DYNAMODB_ENDPOINT (and dummy credentials) for a
  dynalite the test starts, since its commands honour that variable.

A command whose text ends with `# → NNN` must answer that HTTP status (`HTTP/1.1 NNN` from
`curl -i`, or `"statusCode":NNN` in a JSON envelope or `invoke`'s proxy response), and every
foreground command must exit 0. Everything listens on 127.0.0.1 and is killed at the end.

The deploy blocks cannot run here: the second test checks that every variable they use is set
earlier in the same section, or is one of the AWS environment variables the README documents.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("CRUD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BINARY = Path(os.environ.get("CRUD_BINARY", SOURCE_DIR / "build" / "crud-api"))
README = Path(os.environ.get("CRUD_README", SOURCE_DIR / "README.md"))

RUN_SECTIONS = [
    "Using the API",
    "Who is calling (`serve`)",
    "On DynamoDB",
    "As a Lambda function, or one event at a time",
]
DEPLOY_SECTION = "Deploy to AWS"
README_PORTS = ["8080", "8090", "8091", "8092", "8000"]
STATUS_MARK = re.compile(r"#\s*→\s*(\d{3})\b")
# Variables the deploy blocks may use without setting them: AWS's own, documented in the README.
AWS_ENV = {"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_PROFILE"}


def sections(text):
    """Heading text -> body, for every `##`/`###` heading."""
    out, name, lines, in_code = {}, None, [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{2,3} (.*)$", line)
        if m:
            if name is not None:
                out[name] = "\n".join(lines)
            name, lines = m.group(1).strip(), []
        else:
            lines.append(line)
    if name is not None:
        out[name] = "\n".join(lines)
    return out


def shell_blocks(body):
    return re.findall(r"^```(?:sh|bash)\n(.*?)^```", body, re.S | re.M)


def split_commands(block):
    """Complete shell commands, as bash itself delimits them (comment-only lines dropped)."""
    commands, pending, heredoc = [], [], []
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending.append(line)
        text = "\n".join(pending)
        # bash -n accepts a here-document cut short, so its end is found here.
        if heredoc:
            if line.strip() == heredoc[-1]:
                heredoc.pop()
            if heredoc:
                continue
        else:
            heredoc = re.findall(r"<<-?\s*'?([A-Za-z_]+)'?", line.split(" #", 1)[0])[::-1]
            if heredoc:
                continue
        if line.endswith("\\") or line.rstrip().endswith("|"):
            continue
        if subprocess.run(["bash", "-n"], input=text + "\n", text=True,
                          capture_output=True).returncode == 0:
            commands.append(text)
            pending = []
    if pending:
        raise AssertionError("incomplete shell command in the README:\n" + "\n".join(pending))
    return commands


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listener_inodes(port):
    """Inodes of the sockets listening on loopback or any address at `port`."""
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    inodes = set()
    with open("/proc/net/tcp") as tcp:
        next(tcp)  # the header
        for line in tcp:
            fields = line.split()
            if fields[1] in wanted and fields[3] == "0A":  # 0A: TCP_LISTEN
                inodes.add(fields[9])
    return inodes


def session_holds_listener(session, port):
    """Whether a process of `session` holds the socket listening at `port`. An answer on the
    port is not enough: another test's server may have taken the same free port first."""
    links = {f"socket:[{inode}]" for inode in listener_inodes(port)}
    if not links:
        return False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[3]) != session:  # the session id
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in links:
                    return True
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return False


def wait_for_port(port, session, seconds=20.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0 and session_holds_listener(session, port):
                return True
        time.sleep(0.05)
    return False


def strip_comment(command):
    return STATUS_MARK.sub("", command).rstrip()


class ReadmeWalkthroughTest(unittest.TestCase):
    def setUp(self):
        if not BINARY.exists():
            self.fail(f"{BINARY} is not built: build it first (make build)")
        self.text = README.read_text()
        self.sections = sections(self.text)
        self.tmp = Path(tempfile.mkdtemp(prefix="crud-readme-"))
        (self.tmp / "build").mkdir()
        os.symlink(BINARY, self.tmp / "build" / "crud-api")
        os.symlink(SOURCE_DIR / "examples", self.tmp / "examples")
        os.symlink(SOURCE_DIR / "node_modules", self.tmp / "node_modules")
        self.ports = {p: str(free_port()) for p in README_PORTS}
        self.background = []

    def tearDown(self):
        for proc in self.background:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.background:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, argv, port, env=None):
        log = open(self.tmp / f"bg-{len(self.background)}.log", "w")
        proc = subprocess.Popen(argv, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
        self.background.append(proc)
        # start_new_session: the session's id is the process's own.
        self.assertTrue(wait_for_port(int(port), proc.pid),
                        f"{argv} never listened on {port}")

    def localise(self, command):
        return re.sub(r"\b(%s)\b" % "|".join(README_PORTS), lambda m: self.ports[m.group(1)],
                      command)

    def script_for(self, commands, env_prefix=""):
        """One bash script; command i writes its output to out.i and its status to rc.i."""
        lines = ["set -u", "cd " + str(self.tmp)]
        for i, raw in enumerate(commands):
            cmd = self.localise(raw)
            body = strip_comment(cmd)
            background = body.endswith("&") or re.match(r"^(\S+=\S+\s+)*build/crud-api serve", body)
            if background and not body.endswith("&"):
                cmd = body + " &"
            lines.append("{")
            lines.append(env_prefix + cmd if env_prefix else cmd)
            lines.append(f"}} > {self.tmp}/out.{i} 2> {self.tmp}/err.{i}")
            lines.append(f"echo $? > {self.tmp}/rc.{i}")
            if background:
                port = re.search(r"--port (\d+)", cmd)
                port = port.group(1) if port else self.ports["8080"]
                lines.append(f"for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/{port}) "
                             f"2>/dev/null && break; sleep 0.1; done")
        return "\n".join(lines) + "\n"

    def run_section(self, name, env_extra=None):
        self.assertIn(name, self.sections, f"README has no section {name!r}")
        blocks = shell_blocks(self.sections[name])
        self.assertTrue(blocks, f"section {name!r} has no shell block")
        for block_no, block in enumerate(blocks):
            commands = split_commands(block)
            env = dict(os.environ, **(env_extra(block) if env_extra else {}))
            for pattern in ("out.*", "err.*", "rc.*"):
                for f in self.tmp.glob(pattern):
                    f.unlink()
            # Its own process group, so that whatever it leaves running is killed with it.
            proc = subprocess.Popen(["bash", "-c", self.script_for(commands)], cwd=self.tmp,
                                    env=env, start_new_session=True)
            self.background.append(proc)
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                self.fail(f"{name!r} block {block_no} did not finish")
            for i, cmd in enumerate(commands):
                where = f"README {name!r}, block {block_no}, command:\n{cmd}\n"
                out_file, rc_file = self.tmp / f"out.{i}", self.tmp / f"rc.{i}"
                self.assertTrue(rc_file.exists(), where + "did not run")
                out = out_file.read_text(errors="replace")
                err = (self.tmp / f"err.{i}").read_text(errors="replace")
                where += f"stderr:\n{err[-2000:]}\n"
                rc = int(rc_file.read_text().strip() or "1")
                self.assertEqual(rc, 0, where + "failed; stdout:\n" + out[-2000:])
                mark = STATUS_MARK.search(cmd)
                if mark:
                    status = mark.group(1)
                    answered = re.search(r"^HTTP/1\.1 " + status + r"\b", out, re.M) or \
                        re.search(r'"statusCode":\s*' + status + r"\b", out)
                    self.assertTrue(answered, where + f"did not answer {status}; stdout:\n" + out[-2000:])

    def test_walkthrough(self):
        # `make run`: what the Makefile's run target starts, in this directory.
        self.start([str(self.tmp / "build" / "crud-api"), "serve", "--port", self.ports["8080"]],
                   self.ports["8080"])
        self.run_section("Using the API")
        self.run_section("Who is calling (`serve`)")
        aws_port = str(free_port())
        self.start([str(SOURCE_DIR / "node_modules" / ".bin" / "dynalite"), "--host",
                    "127.0.0.1", "--port", aws_port], aws_port)

        def real_aws(block):
            if "--endpoint" in block:
                return {}
            return {"DYNAMODB_ENDPOINT": f"http://127.0.0.1:{aws_port}",
                    "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
        self.run_section("On DynamoDB", real_aws)
        self.run_section("As a Lambda function, or one event at a time")


class ReadmeDeployVariablesTest(unittest.TestCase):
    """The deploy snippets can't run here; each variable they read must be set before."""

    def test_every_variable_is_set_first(self):
        body = sections(README.read_text())[DEPLOY_SECTION]
        known = set(AWS_ENV)
        for block in shell_blocks(body):
            for cmd in split_commands(block):
                code = "\n".join(l.split(" #", 1)[0] for l in cmd.splitlines()
                                  if not l.lstrip().startswith("#"))
                code = re.sub(r"'[^']*'", "''", code)  # single quotes expand nothing
                events = [(m.start(), "use", m.group(1))
                          for m in re.finditer(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", code)]
                events += [(m.start(1), "set", m.group(1)) for m in re.finditer(
                    r"(?:^|[\s;(]|export )([A-Za-z_][A-Za-z0-9_]*)=", code, re.M)]
                events += [(m.start(1), "set", m.group(1)) for m in re.finditer(
                    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)", code, re.M)]
                for _, kind, name in sorted(events):
                    if kind == "set":
                        known.add(name)
                    else:
                        self.assertIn(name, known, f"${name} is used before it is set in:\n{cmd}")


if __name__ == "__main__":
    unittest.main()
