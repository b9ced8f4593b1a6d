#!/usr/bin/env python3
"""Checks a Lambda deployment zip (build/lambda/<arch>/crud-api.zip) the way Lambda will use it.

    package_check.py artifact      --zip Z --arch A [--binary B]
    package_check.py chroot-invoke --zip Z --arch A [--emulator QEMU]
    package_check.py chroot-lambda --zip Z --arch A [--emulator QEMU]
    package_check.py coldstart     --zip Z --arch A [--runs N] [--db-dir DIR]...

artifact       The zip holds exactly one member, `bootstrap`, a regular file with mode 0755 that
               is an ELF executable for the architecture (no script, no loader, no libraries);
               with --binary, byte for byte that binary. Its NEEDED entries are glibc's only,
               its interpreter is the standard one, and no symbol version it needs is newer than
               GLIBC_2.34 (provided.al2023's glibc).
chroot-invoke  Unzips into an otherwise empty root holding only the glibc files the binary
               names (found from its NEEDED entries and interpreter, copied from this host) and
               runs `bootstrap invoke` in it under chroot, with API Gateway events built from
               the shared samples: a create, a read of it, and input that is not an event.
chroot-lambda  The same root, and bootstrap started by that name with no arguments, as Lambda
               starts it: it must find the Runtime API stand-in served here on 127.0.0.1
               (the chroot shares the network namespace), answer each event under its request
               id, and exit by itself when the stand-in reports a container error.
coldstart      Median start-up times of the unzipped bootstrap against the stand-in, beside
               the spawn floor, for `make bench` (scripts/bench-coldstart.sh).

--emulator runs an arm64 bootstrap under qemu-user: the static emulator is copied into the root
(it needs nothing there). The chroot checks need root; without it they exit 77, which ctest
reports as skipped (unless CRUD_REQUIRE_ALL_TESTS is set, or they run as root and chroot is
refused: then they fail), except with --emulator, where they fall back to `qemu -L ROOT` without chroot
and say so. Exit 0 when every check passed, 1 (each failure on stderr) otherwise.
"""

import argparse
import json
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SKIPPED = 77
GLIBC_CEILING = (2, 34)
# glibc's own shared objects: the only ones the binary may load.
GLIBC_SONAMES = {
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
}
ARCHES = {
    "x86_64": {
        "machine": "Advanced Micro Devices X86-64",
        "interpreter": "/lib64/ld-linux-x86-64.so.2",
        "triplet": "x86_64-linux-gnu",
        "lib_dirs": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"],
    },
    "arm64": {
        "machine": "AArch64",
        "interpreter": "/lib/ld-linux-aarch64.so.1",
        "triplet": "aarch64-linux-gnu",
        # libc6-arm64-cross (the cross toolchain's), then libc6:arm64 (multiarch).
        "lib_dirs": ["/usr/aarch64-linux-gnu/lib", "/lib/aarch64-linux-gnu",
                     "/usr/lib/aarch64-linux-gnu"],
    },
}
SAMPLES = "../shared/testdata/apigw-events"

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)
    return ok


def finish(what):
    if failures:
        print(f"{what}: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"{what}: all checks passed")
    return 0


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True,
                          text=True).stdout


def needed_of(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf("-d", path))


def interpreter_of(path):
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", readelf("-l", path))
    return m.group(1) if m else None


def version_tuple(name):
    return tuple(int(x) for x in name.split("_", 1)[1].split("."))


# --- the zip ----------------------------------------------------------------------------------

def read_bootstrap(zip_path):
    """The zip's members and, when the zip is well formed, the bootstrap member's info and bytes."""
    with zipfile.ZipFile(zip_path) as z:
        check(z.testzip() is None, f"{zip_path}: a member fails its CRC")
        infos = z.infolist()
        names = [i.filename for i in infos]
        check(names == ["bootstrap"], f"{zip_path}: members are {names}, want exactly ['bootstrap']")
        info = next((i for i in infos if i.filename == "bootstrap"), None)
        return info, (z.read(info) if info else None)


def extract_bootstrap(zip_path, dest_dir):
    """Unzips bootstrap into dest_dir with the mode the zip gives it, as Lambda does."""
    info, payload = read_bootstrap(zip_path)
    if info is None:
        raise SystemExit(f"{zip_path}: no bootstrap member")
    os.makedirs(dest_dir, exist_ok=True)
    path = os.path.join(dest_dir, "bootstrap")
    with open(path, "wb") as f:
        f.write(payload)
    os.chmod(path, (info.external_attr >> 16) & 0o7777)
    return path


def cmd_artifact(args):
    spec = ARCHES[args.arch]
    info, payload = read_bootstrap(args.zip)
    if info is None:
        return finish("artifact")
    mode = info.external_attr >> 16
    check(info.create_system == 3, f"bootstrap: made by system {info.create_system}, want 3 "
          "(Unix), or readers ignore its mode")
    check(stat.S_ISREG(mode), f"bootstrap: not a regular file (mode {oct(mode)})")
    check(stat.S_IMODE(mode) == 0o755, f"bootstrap: mode {oct(stat.S_IMODE(mode))}, want 0o755")
    check(payload[:4] == b"\x7fELF", "bootstrap: not an ELF file (a script or wrapper?)")
    if args.binary:
        with open(args.binary, "rb") as f:
            check(f.read() == payload, f"bootstrap differs from {args.binary}: the zip is stale")

    with tempfile.TemporaryDirectory(prefix="crud-pkg-artifact.") as tmp:
        path = extract_bootstrap(args.zip, tmp)
        header = readelf("-h", path)
        check(re.search(r"Type:\s+(EXEC|DYN)", header) is not None, "bootstrap: not an executable")
        check(re.search(r"Machine:\s+" + re.escape(spec["machine"]), header) is not None,
              f"bootstrap: machine is not {spec['machine']}")

        needed = needed_of(path)
        print(f"NEEDED: {', '.join(needed)}")
        check("libc.so.6" in needed, "bootstrap: does not need libc.so.6 (linked fully static?)")
        others = [n for n in needed if n not in GLIBC_SONAMES]
        check(not others, f"bootstrap: needs non-glibc libraries {others}; only glibc may stay "
              "dynamic (libstdc++, libgcc, OpenSSL, SQLite and Boost must be static)")
        dynamic = readelf("-d", path)
        check("RPATH" not in dynamic and "RUNPATH" not in dynamic, "bootstrap: has an RPATH")

        interpreter = interpreter_of(path)
        print(f"interpreter: {interpreter}")
        check(interpreter == spec["interpreter"],
              f"bootstrap: interpreter {interpreter}, want {spec['interpreter']}")

        # Every version the binary needs, from .gnu.version_r, by file.
        needs = re.findall(r"Name: (\S+)\s+Flags", readelf("-V", path))
        foreign = sorted({v for v in needs if not v.startswith("GLIBC_")})
        check(not foreign, f"bootstrap: needs non-glibc symbol versions {foreign}")
        glibc = sorted({v for v in needs if re.fullmatch(r"GLIBC_\d+(\.\d+)+", v)},
                       key=version_tuple)
        highest = glibc[-1] if glibc else None
        print(f"highest glibc version needed: {highest}")
        check(highest is not None, "bootstrap: needs no GLIBC_ version at all (not glibc-linked?)")
        if highest is not None and version_tuple(highest) > GLIBC_CEILING:
            too_new = sorted(set(re.findall(r"\sUND\s+(\S+@GLIBC_[\d.]+)",
                                            readelf("--dyn-syms", path))))
            too_new = [s for s in too_new if version_tuple(s.split("@")[1]) > GLIBC_CEILING]
            check(False, f"bootstrap: needs {highest} > GLIBC_2.34 (provided.al2023): "
                  f"{', '.join(too_new) or 'see readelf -V'}")
    print(f"zip: {os.path.getsize(args.zip)} bytes, bootstrap: {len(payload)} bytes")
    return finish("artifact")


# --- a root with glibc only ---------------------------------------------------------------------

def find_lib(spec, name):
    for d in spec["lib_dirs"]:
        candidate = os.path.join(d, name)
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    raise SystemExit(f"cannot find {name} for {spec['triplet']} in {spec['lib_dirs']}")


def make_root(args, base):
    """An otherwise empty root: /var/task/bootstrap from the zip, the glibc files it names and
    those they name in turn (nothing else), an empty /tmp and, with --emulator, the emulator."""
    spec = ARCHES[args.arch]
    root = os.path.join(base, "root")
    bootstrap = extract_bootstrap(args.zip, os.path.join(root, "var", "task"))
    lib_dir = os.path.join(root, "lib", spec["triplet"])
    os.makedirs(lib_dir)
    pending, copied = list(needed_of(bootstrap)), set()
    while pending:
        name = pending.pop()
        if name in copied:
            continue
        source = find_lib(spec, name)
        shutil.copy2(source, os.path.join(lib_dir, name))
        copied.add(name)
        pending.extend(needed_of(source))
    interpreter = interpreter_of(bootstrap)
    target = root + interpreter
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(find_lib(spec, os.path.basename(interpreter)), target)
    os.makedirs(os.path.join(root, "tmp"))
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    if args.emulator:
        check(interpreter_of(args.emulator) is None,
              f"{args.emulator} is not a static executable; it cannot run inside the root")
        shutil.copy2(args.emulator, os.path.join(root, "emulator"))
    files = sorted(os.path.relpath(os.path.join(d, f), root)
                   for d, _, fs in os.walk(root) for f in fs)
    print(f"root: {', '.join(files)}")
    return root


class runner:
    """Runs the unzipped bootstrap in the root: under chroot when we can, else (with an emulator
    only) as `qemu -L ROOT`, where guest paths that exist under ROOT resolve there."""

    def __init__(self, args, root):
        self.root = root
        self.emulator = args.emulator
        self.chroot = can_chroot()
        if not self.chroot:
            print("cannot chroot: running under qemu -L ROOT instead")

    def path(self, guest_path):
        """A path the process can write: inside the root when chrooted, else the host path of
        the same place (qemu -L resolves only files that already exist under ROOT)."""
        return guest_path if self.chroot else self.root + guest_path

    def popen(self, argv, env, **kw):
        if self.chroot:
            cmd = (["/emulator"] if self.emulator else []) + argv

            def enter():
                os.chroot(self.root)
                os.chdir("/")

            return subprocess.Popen(cmd, env=env, preexec_fn=enter, **kw)
        cmd = [self.emulator, "-L", self.root, self.root + argv[0], *argv[1:]]
        return subprocess.Popen(cmd, env=env, cwd=self.root, **kw)

    def run(self, argv, env, stdin_text=None, timeout=120):
        p = self.popen(argv, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(stdin_text, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            check(False, f"{' '.join(argv)}: no exit within {timeout} s")
        return p.returncode, out, err


def can_chroot():
    """Whether this process may chroot: root, and not in a container without CAP_SYS_CHROOT."""
    if os.geteuid() != 0:
        return False
    probe = subprocess.run([sys.executable, "-c", "import os; os.chroot('/')"],
                           capture_output=True)
    return probe.returncode == 0


def can_chroot_or_skip(args):
    """True when the chroot checks can run. Otherwise they are skipped only where that is
    expected: not as root, and not where CRUD_REQUIRE_ALL_TESTS is set (CI sets it). Root that
    cannot chroot (a container without CAP_SYS_CHROOT) or CI without root fails loudly."""
    if args.emulator or can_chroot():
        return True
    if os.geteuid() == 0 or os.environ.get("CRUD_REQUIRE_ALL_TESTS"):
        why = "chroot is refused to root (CAP_SYS_CHROOT?)" if os.geteuid() == 0 else \
            "not root, and CRUD_REQUIRE_ALL_TESTS forbids skipping"
        raise SystemExit(f"FAILED: the chroot checks cannot run: {why}")
    print("SKIPPED: the chroot checks need root and chroot (CI runs as root)")
    return False


def lambda_env(r, extra=None):
    env = {
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "crud-api-package-test",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "TZ": ":UTC",
        "CRUD_STORE": "sqlite",
        "CRUD_DB": r.path("/tmp/data/items.db"),
    }
    env.update(extra or {})
    return env


# --- events -------------------------------------------------------------------------------------

def sample(name):
    source_dir = os.environ.get("CRUD_SOURCE_DIR", os.getcwd())
    with open(os.path.join(source_dir, SAMPLES, name)) as f:
        return json.load(f)


def http_v2_event(method, path, body=None, query=None):
    """The shared HTTP API (v2) sample without an authorizer (owner `public`), pointed at one of
    our routes."""
    e = sample("example-apigw-v2-request-no-authorizer.json")
    e["routeKey"] = "$default"
    e["rawPath"] = path
    e["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    e.pop("queryStringParameters", None)
    if query:
        e["queryStringParameters"] = dict(query)
    e.pop("pathParameters", None)
    e["requestContext"]["http"]["method"] = method
    e["requestContext"]["http"]["path"] = path
    e["headers"] = {k: v for k, v in e["headers"].items() if k != "content-length"}
    if body is not None:
        e["headers"]["content-type"] = "application/json"
        e["body"] = json.dumps(body)
        e["isBase64Encoded"] = False
    else:
        e.pop("body", None)
    return e


def rest_v1_event(method, path, query=None):
    """The shared REST (v1) sample, pointed at one of our routes (stage prefix in
    requestContext.path, as API Gateway sends it). Its Lambda authorizer makes the caller an
    owner other than `public`."""
    e = sample("example-apigw-request.json")
    e["httpMethod"] = method
    e["path"] = path
    e["resource"] = path
    e["pathParameters"] = None
    e["queryStringParameters"] = query
    e["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    e["body"] = None
    e["requestContext"]["httpMethod"] = method
    e["requestContext"]["resourcePath"] = path
    e["requestContext"]["path"] = "/" + e["requestContext"]["stage"] + path
    return e


def parse_proxy(text, what):
    """The proxy response and its JSON body, or (None, None) with a failure recorded."""
    try:
        response = json.loads(text)
        body = json.loads(response["body"])
        return response, body
    except (ValueError, KeyError, TypeError) as e:
        check(False, f"{what}: not a proxy response with a JSON body ({e}): {text[:500]!r}")
        return None, None


def header(response, name):
    for k, v in (response.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


# --- the invoke checks --------------------------------------------------------------------------

def cmd_chroot_invoke(args):
    if not can_chroot_or_skip(args):
        return SKIPPED
    with tempfile.TemporaryDirectory(prefix="crud-pkg-invoke.") as base:
        r = runner(args, make_root(args, base))
        env = lambda_env(r)
        bootstrap = "/var/task/bootstrap"

        # --version and a bad option: both end in an exception inside CLI11, so they prove
        # that C++ unwinding works with only glibc around (glibc_compat.cpp's _dl_find_object).
        code, out, err = r.run([bootstrap, "--version"], env)
        check(code == 0 and out.strip() != "", f"--version: exit {code}, out {out!r}, err {err!r}")
        code, out, err = r.run([bootstrap, "serve", "--no-such-option"], env)
        check(code == 2 and "no-such-option" in err,
              f"a bad option: exit {code} (want 2), stderr {err!r}")

        created = http_v2_event("POST", "/items",
                                {"name": "Packaged", "description": "made in a glibc-only root"})
        code, out, err = r.run([bootstrap, "invoke"], env, json.dumps(created))
        check(code == 0, f"invoke POST /items: exit {code}, stderr {err!r}")
        response, body = parse_proxy(out, "invoke POST /items")
        item_id = None
        if response is not None:
            check(response.get("statusCode") == 201, f"POST /items: {out[:500]}")
            check(body.get("statusCode") == 201, f"POST /items body: {body}")
            data = body.get("data") or {}
            item_id = data.get("id")
            check(isinstance(item_id, str) and re.fullmatch(r"item_[0-9A-Z]{26}", item_id),
                  f"POST /items: id {item_id!r}")
            check(data.get("name") == "Packaged" and data.get("version") == 1,
                  f"POST /items: data {data}")
            check(header(response, "Location") == f"/items/{item_id}",
                  f"POST /items: Location {header(response, 'Location')!r}")
            check(header(response, "ETag") is not None, "POST /items: no ETag")

        if item_id:
            # The same owner, from a file, in the next process: 200 from the store in the root.
            event_file = r.path("/tmp/read-event.json")
            with open(os.path.join(r.root, "tmp", "read-event.json"), "w") as f:
                json.dump(http_v2_event("GET", f"/items/{item_id}"), f)
            code, out, err = r.run([bootstrap, "invoke", "--event", event_file], env)
            check(code == 0, f"invoke GET /items/{{id}}: exit {code}, stderr {err!r}")
            response, body = parse_proxy(out, "invoke GET /items/{id}")
            if response is not None:
                check(response.get("statusCode") == 200, f"GET /items/{{id}}: {out[:500]}")
                check((body.get("data") or {}).get("id") == item_id,
                      f"GET /items/{{id}}: the item created by the previous process is not "
                      f"there: {body}")
            # A REST (v1) event from another owner: a well-formed 404, not the item.
            other = rest_v1_event("GET", f"/items/{item_id}")
            code, out, err = r.run([bootstrap, "invoke"], env, json.dumps(other))
            check(code == 0, f"invoke GET (REST v1): exit {code}, stderr {err!r}")
            response, body = parse_proxy(out, "invoke GET (REST v1)")
            if response is not None:
                check(response.get("statusCode") == 404 and "multiValueHeaders" in response,
                      f"GET (REST v1) by another owner: {out[:500]}")
                check((body.get("error") or {}).get("code") == "NOT_FOUND",
                      f"GET (REST v1) by another owner: {body}")

        code, out, err = r.run([bootstrap, "invoke"], env, "this is not an event")
        check(code != 0 and err.strip() != "",
              f"invoke with a non-event: exit {code} (want non-zero), stderr {err!r}")
    return finish("chroot-invoke")


# --- a Runtime API stand-in ---------------------------------------------------------------------

class runtime_stand_in:
    """Lambda's Runtime API (2018-06-01) on 127.0.0.1: hands out queued events on
    GET /runtime/invocation/next, records each post with a monotonic timestamp, and answers
    `next` with 500 (container error: the runtime must exit) when nothing is queued."""

    prefix = "/2018-06-01/runtime"

    def __init__(self):
        self.lock = threading.Lock()
        self.reset([])
        stand_in = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: with Nagle, the body would wait for the
            # runtime's delayed ACK (40 ms) and that wait would count as ours.
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def reply(self, status, body, headers=None):
                data = body.encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def do_GET(self):
                now = time.monotonic_ns()
                if self.path != stand_in.prefix + "/invocation/next":
                    stand_in.record("unexpected", "GET " + self.path, now)
                    return self.reply(404, '{"errorMessage":"unknown path"}')
                event = stand_in.take_next(now)
                if event is None:
                    return self.reply(500, '{"errorMessage":"no more events",'
                                           '"errorType":"ContainerError"}')
                request_id, payload = event
                self.reply(200, payload, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:crud-api-package-test",
                    "Lambda-Runtime-Trace-Id":
                        "Root=1-6790a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;"
                        "Sampled=0",
                })

            def do_POST(self):
                now = time.monotonic_ns()
                body = self.read_body().decode(errors="replace")
                m = re.fullmatch(re.escape(stand_in.prefix) +
                                 r"/invocation/([^/]+)/(response|error)", self.path)
                if m:
                    stand_in.record(m.group(2), m.group(1), now, body)
                elif self.path == stand_in.prefix + "/init/error":
                    stand_in.record("init_error", "", now, body)
                else:
                    stand_in.record("unexpected", "POST " + self.path, now, body)
                    return self.reply(404, '{"errorMessage":"unknown path"}')
                self.reply(202, '{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def endpoint(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def reset(self, events):
        with self.lock:
            self.queue = list(events)
            self.first_next_ns = None
            self.first_post_ns = None
            self.posts = []  # (kind, request id, body)
            self.posted = threading.Event()

    def take_next(self, now):
        with self.lock:
            if self.first_next_ns is None:
                self.first_next_ns = now
            return self.queue.pop(0) if self.queue else None

    def record(self, kind, request_id, now, body=""):
        with self.lock:
            if self.first_post_ns is None:
                self.first_post_ns = now
            self.posts.append((kind, request_id, body))
            self.posted.set()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_exit(p, timeout, what):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        check(False, f"{what}: did not exit by itself within {timeout} s; killed")
        return None


def cmd_chroot_lambda(args):
    if not can_chroot_or_skip(args):
        return SKIPPED
    stand_in = runtime_stand_in()
    try:
        with tempfile.TemporaryDirectory(prefix="crud-pkg-lambda.") as base:
            r = runner(args, make_root(args, base))
            create = http_v2_event("POST", "/items", {"name": "From the loop"})
            listing = http_v2_event("GET", "/items", query={"limit": "100"})
            stand_in.reset([("req-create-0001", json.dumps(create)),
                            ("req-list-0002", json.dumps(listing))])
            env = lambda_env(r, {"AWS_LAMBDA_RUNTIME_API": stand_in.endpoint(), "_HANDLER": "all"})
            out_path = os.path.join(base, "stdout.txt")
            err_path = os.path.join(base, "stderr.txt")
            with open(out_path, "w") as out, open(err_path, "w") as err:
                # Started by its name alone, as Lambda starts it: no subcommand.
                p = r.popen(["/var/task/bootstrap"], env, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=err)
                code = wait_exit(p, 120, "bootstrap (lambda loop)")
            stdout = open(out_path).read()
            stderr = open(err_path).read()
            check(code is not None and 0 <= code < 128,
                  f"bootstrap ended with {code} (a signal?): stderr {stderr[-2000:]!r}")

            posts = stand_in.posts
            kinds = [(k, rid) for k, rid, _ in posts]
            check(kinds == [("response", "req-create-0001"), ("response", "req-list-0002")],
                  f"posts to the Runtime API: {kinds}, want one response per event, in order; "
                  f"stderr {stderr[-2000:]!r}")
            responses = {rid: body for k, rid, body in posts if k == "response"}
            item_id = None
            if "req-create-0001" in responses:
                response, body = parse_proxy(responses["req-create-0001"], "create response")
                if response is not None:
                    check(response.get("statusCode") == 201, f"create: {response}")
                    item_id = (body.get("data") or {}).get("id")
            if "req-list-0002" in responses:
                response, body = parse_proxy(responses["req-list-0002"], "list response")
                if response is not None:
                    check(response.get("statusCode") == 200, f"list: {response}")
                    ids = [i.get("id") for i in body.get("data") or []]
                    check(item_id is not None and ids == [item_id],
                          f"list: ids {ids}, want just the item created by the first event")

            operations = []
            for line in stdout.splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    check(False, f"a stdout line is not JSON: {line[:300]!r}")
                    continue
                # One access log line per request; metric (EMF) lines, under "_aws", aside.
                if isinstance(record, dict) and "operation" in record and "_aws" not in record:
                    operations.append(record["operation"])
            check(operations == ["CREATE_ITEM", "LIST_ITEMS"],
                  f"request log lines: operations {operations}")
    finally:
        stand_in.close()
    return finish("chroot-lambda")


# --- cold start ---------------------------------------------------------------------------------

def cmd_coldstart(args):
    """Prints a table; times are medians over --runs starts, from right before the spawn. Each
    --db-dir gets its own rows: a fresh SQLite file per start means the schema is created
    (and synced) before the first `next`, which costs what that file system's fsync costs."""
    stand_in = runtime_stand_in()
    db_dirs = args.db_dir or [tempfile.gettempdir()]
    try:
        with tempfile.TemporaryDirectory(prefix="crud-coldstart.") as base:
            bootstrap = extract_bootstrap(args.zip, os.path.join(base, "task"))
            event = json.dumps(http_v2_event("POST", "/items", {"name": "cold start"}))
            spawn, version = [], []
            to_next = {d: [] for d in db_dirs}
            to_response = {d: [] for d in db_dirs}
            for i in range(args.runs):
                t0 = time.monotonic_ns()
                subprocess.run(["/bin/true"], check=True)
                spawn.append(time.monotonic_ns() - t0)

                t0 = time.monotonic_ns()
                subprocess.run([bootstrap, "--version"], check=True, stdout=subprocess.DEVNULL)
                version.append(time.monotonic_ns() - t0)

                for d in db_dirs:
                    with tempfile.TemporaryDirectory(prefix="crud-coldstart-db.", dir=d) as db:
                        stand_in.reset([(f"req-{i:04d}", event)])
                        env = {
                            "PATH": "/usr/bin:/bin",
                            "LAMBDA_TASK_ROOT": os.path.dirname(bootstrap),
                            "AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                            "AWS_LAMBDA_RUNTIME_API": stand_in.endpoint(), "_HANDLER": "all",
                            "CRUD_STORE": "sqlite", "CRUD_DB": os.path.join(db, "items.db"),
                        }
                        err_path = os.path.join(base, "stderr.txt")
                        with open(err_path, "w") as err:
                            t0 = time.monotonic_ns()
                            p = subprocess.Popen([bootstrap], env=env, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL, stderr=err)
                            code = wait_exit(p, 60, "bootstrap")
                        if not stand_in.posts or stand_in.posts[0][0] != "response":
                            print(open(err_path).read(), file=sys.stderr)
                            raise SystemExit(f"coldstart: run {i} posted {stand_in.posts} "
                                             f"(exit {code})")
                        to_next[d].append(stand_in.first_next_ns - t0)
                        to_response[d].append(stand_in.first_post_ns - t0)
    finally:
        stand_in.close()

    floor = statistics.median(spawn)
    rows = [("exec /bin/true -> exit (spawn floor)", spawn),
            ("exec bootstrap --version -> exit", version)]
    for d in db_dirs:
        rows += [(f"exec bootstrap -> first GET next [{d}]", to_next[d]),
                 (f"exec bootstrap -> response posted [{d}]", to_response[d])]
    width = max(len(label) for label, _ in rows) + 2
    print(f"{'cold start, median of ' + str(args.runs):<{width}} {'ms':>8} {'p90 ms':>8} "
          f"{'vs floor':>9}")
    for label, samples in rows:
        median = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(f"{label:<{width}} {median / 1e6:8.2f} {p90 / 1e6:8.2f} {median / floor:8.1f}x")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command",
                        choices=["artifact", "chroot-invoke", "chroot-lambda", "coldstart"])
    parser.add_argument("--zip", required=True)
    parser.add_argument("--arch", choices=sorted(ARCHES), default="x86_64")
    parser.add_argument("--binary", help="the built binary the zip must hold, byte for byte")
    parser.add_argument("--emulator", help="a static qemu-user for a foreign --arch")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db-dir", action="append",
                        help="coldstart: where the fresh SQLite files go (repeatable)")
    args = parser.parse_args()
    if not os.path.isfile(args.zip):
        print(f"{args.zip}: no such zip (make package builds it)", file=sys.stderr)
        return 1
    return {"artifact": cmd_artifact, "chroot-invoke": cmd_chroot_invoke,
            "chroot-lambda": cmd_chroot_lambda, "coldstart": cmd_coldstart}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
