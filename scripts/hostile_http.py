#!/usr/bin/env python3
"""Hostile HTTP (docs/reliability.md): sends each malformed, ambiguous or abusive request below
to a fresh `crud-api serve` over a raw socket and prints, as a Markdown table, what came back:
the status of every response, and whether and when the server closed the connection.

Usage: scripts/hostile_http.py [BUILD_DIR]   (prints the table on stdout; exits 1 when a case's
answer differs from the one expected, listed in the last column)
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMUGGLED = b"DELETE /items/item_x HTTP/1.1\r\nHost: x\r\n\r\n"
JSON = b"Content-Type: application/json\r\n"


def chunked(body):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


# (case, bytes sent, expected statuses, expect the server to close, seconds to wait)
CASES = [
    ("baseline: GET /health", b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "200", False),
    ("HTTP/1.1 without Host", b"GET /items HTTP/1.1\r\n\r\n", "400", True),
    ("HTTP/1.1 with two Host headers", b"GET /items HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
     "400", True),
    ("HTTP/1.0 without Host", b"GET /health HTTP/1.0\r\n\r\n", "200", True),
    ("Transfer-Encoding: gzip (not ending in chunked), then a smuggled DELETE",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: gzip\r\n\r\n" + SMUGGLED,
     "400", True),
    ("Transfer-Encoding: chunked, gzip",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: chunked, gzip\r\n\r\n"
     + chunked(b"{}"), "400", True),
    ("Transfer-Encoding split over two fields, last not chunked",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: chunked\r\n"
     b"Transfer-Encoding: identity\r\n\r\n" + chunked(b"{}"), "400", True),
    ("Transfer-Encoding on HTTP/1.0",
     b"POST /items HTTP/1.0\r\n" + JSON + b"Transfer-Encoding: chunked\r\n\r\n"
     + chunked(b'{"name":"a"}'), "400", True),
    ("Content-Length and Transfer-Encoding together (CL.TE smuggling)",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 4\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b'{"name":"a"}') + SMUGGLED, "400", True),
    ("Transfer-Encoding: Chunked (any case), a valid chunked body",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: Chunked\r\n\r\n"
     + chunked(b'{"name":"chunked"}'), "201", False),
    ("two different Content-Length values",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 2\r\nContent-Length: 3\r\n"
     b"\r\n{}", "400", True),
    ("Content-Length not a number",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: -1\r\n\r\n{}", "400", True),
    ("chunk size not hex",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n{}\r\n0\r\n\r\n", "400", True),
    ("header line without a colon", b"GET /items HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
     "400", True),
    ("space before the colon", b"GET /items HTTP/1.1\r\nHost : x\r\n\r\n", "400", True),
    # RFC 9112 §5.2 lets a server replace each fold with a space instead of refusing.
    ("obsolete line folding (unfolded)",
     b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", "200", False),
    ("NUL in a header value", b"GET /items HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "400",
     True),
    ("request line that is not HTTP", b"GARBAGE\r\n\r\n", "400", True),
    ("HTTP/0.9 request", b"GET /health\r\n\r\n", "400", True),
    ("HTTP/2 preface over HTTP/1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400", True),
    ("unknown version HTTP/3.7", b"GET /health HTTP/3.7\r\nHost: x\r\n\r\n", "400", True),
    ("bare LF line endings", b"GET /health HTTP/1.1\nHost: x\n\n", "400", True),
    ("unknown method BREW", b"BREW /items HTTP/1.1\r\nHost: x\r\n\r\n", "405", False),
    ("OPTIONS *", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "400", False),
    ("absolute-form target", b"GET http://x/health HTTP/1.1\r\nHost: x\r\n\r\n", "200", False),
    ("dot segments /items/../health", b"GET /items/../health HTTP/1.1\r\nHost: x\r\n\r\n", "404",
     False),
    ("target with an invalid UTF-8 escape /%FF", b"GET /%FF HTTP/1.1\r\nHost: x\r\n\r\n", "404",
     False),
    ("escaped slash inside a segment: POST /items/<id>%2Frestore",
     b"POST /items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV%2Frestore HTTP/1.1\r\nHost: x\r\n\r\n", "404",
     False),
    ("malformed query escape /items?limit=%zz", b"GET /items?limit=%zz HTTP/1.1\r\nHost: x\r\n\r\n",
     "400", False),
    ("target of 10,000 bytes", b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "431",
     True),
    ("headers over 8 KiB", b"GET /items HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
     "431", True),
    ("300 small headers (under 8 KiB)",
     b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(300))
     + b"\r\n", "200", False),
    ("Content-Length over 64 KiB, body not sent",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 1000000\r\n\r\n", "413",
     True),
    ("chunked body over 64 KiB",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Transfer-Encoding: chunked\r\n\r\n"
     + b"".join(b"4000\r\n" + b"a" * 0x4000 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n", "413",
     True),
    ("write without Content-Type",
     b'POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{"name":"x"}', "415", False),
    ("form Content-Type (a cross-site form post)",
     b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: 12\r\n\r\n{\"name\":\"x\"}", "415", False),
    ("body that is not UTF-8",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 12\r\n\r\n"
     b'{"name":"\xff"}', "400", False),
    ("Expect: 100-continue",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 12\r\n"
     b"Expect: 100-continue\r\n\r\n" + b'{"name":"e"}', "100 201", False),
    ("three pipelined requests",
     b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 3, "200 200 200", False),
    ("Connection: close", b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200",
     True),
    ("header never finished (stalls after the first line)", b"GET /items HTTP/1.1\r\nHost: x\r\n",
     "-", True, 13),
    ("body never finished (2 of 12 bytes)",
     b"POST /items HTTP/1.1\r\nHost: x\r\n" + JSON + b"Content-Length: 12\r\n\r\n{\"", "-", True,
     33),
]


def exchange(port, data, wait):
    s = socket.create_connection(("127.0.0.1", port))
    start = time.monotonic()
    s.sendall(data)
    got = b""
    closed_after = None
    s.settimeout(0.2)
    quiet_since = time.monotonic()
    while time.monotonic() - start < wait:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            # Answered and quiet for a second: the connection is being kept open.
            if got and time.monotonic() - quiet_since > 1.0:
                break
            continue
        except ConnectionResetError:
            closed_after = time.monotonic() - start
            break
        if not chunk:
            closed_after = time.monotonic() - start
            break
        got += chunk
        quiet_since = time.monotonic()
    s.close()
    # Bodies are JSON, so a status line is the only place this text can appear.
    statuses = re.findall(rb"HTTP/1\.[01] (\d{3}) ", got)
    return " ".join(x.decode() for x in statuses) or "-", closed_after


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    work = tempfile.mkdtemp(prefix="crud-hostile-")
    server = subprocess.Popen(
        [os.path.join(build, "crud-api"), "serve", "--host", "127.0.0.1", "--port", "0", "--db",
         os.path.join(work, "items.db"), "--rate-limit", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in server.stdout:
        m = re.search(r'"message":"listening".*"port":(\d+)', line)
        if m:
            port = int(m.group(1))
            break
    subprocess.Popen(["cat"], stdin=server.stdout, stdout=subprocess.DEVNULL)
    failures = 0
    print("| # | request | answer | connection | expected |")
    print("|---|---|---|---|---|")
    try:
        for n, case in enumerate(CASES, 1):
            name, data, expected, expect_close = case[:4]
            wait = case[4] if len(case) > 4 else 5
            answer, closed_after = exchange(port, data, wait)
            connection = ("closed after %.1f s" % closed_after if closed_after is not None
                          else "kept open")
            ok = answer == expected and (closed_after is not None) == expect_close
            failures += 0 if ok else 1
            print(f"| {n} | {name} | {answer} | {connection} | "
                  f"{expected}{', closed' if expect_close else ''}{'' if ok else ' **differs**'} |",
                  flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", work])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
