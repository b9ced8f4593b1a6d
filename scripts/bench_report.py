#!/usr/bin/env python3
"""Summarises one `make bench` run (scripts/bench.sh): prints the tables and, when asked,
writes docs/benchmarks.md, its chart (gnuplot, PNG) and README's Performance table.

    scripts/bench_report.py RESULTS.jsonl [--markdown FILE] [--chart PNG] [--readme README]

RESULTS holds one JSON object per line: "meta" (the machine, the date, the load), "wrk" (one
measured run of one target), "cold" (the samples of one cold-start row), "micro" (one
repetition of one Google Benchmark). Every row is the median of its runs, with the spread
(min-max); ratios are taken between medians of the same run. A wrk row with any status error
or socket error, or without its runs, fails: everything is still printed, nothing is written,
and the exit status is 1.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

# key, label, baseline key
SERVE_ROWS = [
    ("nginx", "nginx, static item JSON", None),
    ("get", "serve GET /items/{id}, SQLite", "nginx"),
    ("post", "serve POST /items (durable), SQLite", "nginx"),
    ("dynamo_get", "serve GET /items/{id}, dynalite", "nginx"),
    ("dynamo_post", "serve POST /items, dynalite", "nginx"),
]
PINNED_ROWS = [
    ("nginx_pinned", "nginx, static item JSON", None),
    ("get_pinned", "serve GET /items/{id}, SQLite", "nginx_pinned"),
    ("post_pinned", "serve POST /items (durable), SQLite", "nginx_pinned"),
]
CHART_ROWS = [
    ("nginx", "nginx"), ("get", "GET sqlite"), ("post", "POST sqlite"),
    ("nginx_pinned", "nginx 1 CPU"), ("get_pinned", "GET sqlite 1 CPU"),
    ("post_pinned", "POST sqlite 1 CPU"), ("dynamo_get", "GET dynalite"),
    ("dynamo_post", "POST dynalite"),
]
MICRO_LABELS = {
    "BM_ValidateCreateBody": "validate a POST body (item_input)",
    "BM_ItemEnvelope": "item envelope",
    "BM_CursorEncode": "cursor encode",
    "BM_CursorDecode": "cursor decode",
    "BM_AccessLogLine": "format a request's access log line",
    "BM_SigV4SignGetItem": "SigV4-sign a GetItem, key derived",
    "BM_SigV4SignGetItemCachedKey": "SigV4-sign a GetItem, key cached (as the client does)",
    "BM_SigV4DeriveSigningKey": "SigV4 signing key derivation",
    "BM_ApigwDecodeV2": "decode an HTTP API (v2) event",
    "BM_ApigwEncodeV2": "encode its proxy response",
}


def spread(values, fmt):
    values = sorted(values)
    return f"{fmt(statistics.median(values))} ({fmt(values[0])}–{fmt(values[-1])})"


def load(path):
    meta, wrk, cold, micro = {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            kind = rec["type"]
            if kind == "meta":
                meta[rec["key"]] = rec["value"]
            elif kind == "wrk":
                wrk.setdefault(rec["key"], []).append(rec)
            elif kind == "cold":
                cold[rec["key"]] = rec["samples"]
            elif kind == "micro":
                micro.setdefault(rec["key"], []).append(rec["ns"])
    return meta, wrk, cold, micro


class serve_row:
    def __init__(self, runs, expected):
        self.runs = runs
        self.rps = [r["rps"] for r in runs]
        self.p99_ms = [r["p99_us"] / 1000 for r in runs]
        self.cpu_us = [r["cpu_ticks"] / r["clk_tck"] * 1e6 / r["requests"] if r["requests"] else 0
                       for r in runs]
        self.errors = sum(r["non2xx"] + r["socket_errors"] for r in runs)
        self.failure = None
        if len(runs) < expected:
            self.failure = f"{len(runs)} of {expected} runs"
        elif self.errors:
            self.failure = (f"{sum(r['non2xx'] for r in runs)} error answers, "
                            f"{sum(r['socket_errors'] for r in runs)} socket errors")
        elif any(r["requests"] == 0 for r in runs):
            self.failure = "a run answered nothing"

    def median(self, field):
        return statistics.median(getattr(self, field))


def build_serve_table(rows, wrk, expected):
    out, failures = [], []
    made = {key: serve_row(wrk.get(key, []), expected) for key, _, _ in rows}
    for key, label, base in rows:
        r = made[key]
        if r.failure:
            failures.append(f"{label}: {r.failure}")
            out.append([label, "FAILED: " + r.failure, "", "", "", ""])
            continue
        ratio = cpu_ratio = "—"
        if base and not made[base].failure:
            ratio = f"{r.median('rps') / made[base].median('rps'):.2f}×"
            cpu_ratio = f"{r.median('cpu_us') / made[base].median('cpu_us'):.2f}×"
        out.append([label, spread(r.rps, lambda v: f"{v:,.0f}"),
                    spread(r.p99_ms, lambda v: f"{v:.2f}"), ratio,
                    spread(r.cpu_us, lambda v: f"{v:.1f}"), cpu_ratio])
    return out, failures, made


def cold_table(cold):
    if not cold:
        return [], {}
    med = {}
    for key, samples in cold.items():
        for field in samples[0]:
            med[(key, field)] = statistics.median(s[field] for s in samples)

    def walls(key, field="wall_ms"):
        return spread([s[field] for s in cold[key]], lambda v: f"{v:.1f}")

    def rss(key):
        return f"{med[(key, 'rss_kib')] / 1024:.1f}"

    floor = med[("floor", "wall_ms")]
    ours, node = med[("invoke_dynamodb", "wall_ms")], med[("invoke_node", "wall_ms")]
    ours_rss, node_rss = med[("invoke_dynamodb", "rss_kib")], med[("invoke_node", "rss_kib")]
    rows = [
        ["spawn floor: /bin/true", walls("floor"), rss("floor"), "—"],
        ["invoke GET /items/{id}, SQLite", walls("invoke_sqlite"), rss("invoke_sqlite"),
         f"{med[('invoke_sqlite', 'wall_ms')] / floor:.1f}× the floor"],
        ["invoke GET /items/{id}, dynalite", walls("invoke_dynamodb"), rss("invoke_dynamodb"),
         f"{node / ours:.1f}× faster, {node_rss / ours_rss:.1f}× less memory than Node"],
        ["Node 20 + AWS SDK v3 GetItem, dynalite", walls("invoke_node"), rss("invoke_node"),
         "baseline"],
        ["lambda exec → first /next, SQLite", walls("lambda_sqlite", "next_ms"), "", ""],
        ["lambda exec → first response, SQLite", walls("lambda_sqlite", "response_ms"), "", ""],
        ["lambda exec → first /next, dynalite (init reads the cursor secret)",
         walls("lambda_dynamodb", "next_ms"), "", ""],
        ["lambda exec → first response, dynalite", walls("lambda_dynamodb", "response_ms"), "",
         ""],
    ]
    return rows, med


def micro_table(micro):
    rows = []
    for key, values in micro.items():
        label = MICRO_LABELS.get(key, key)
        rows.append([label, spread(values, lambda v: f"{v:,.0f}")])
    return rows


def steal_share(start, end):
    """The share (percent) of CPU time that the hypervisor gave to other guests between two
    `cpu` lines of /proc/stat (user nice system idle iowait irq softirq steal ...); None when
    either is missing or nothing elapsed."""
    if not start or not end:
        return None
    a = [int(x) for x in start.split()[1:9]]
    b = [int(x) for x in end.split()[1:9]]
    if len(a) < 8 or len(b) < 8:
        return None
    total = sum(b) - sum(a)
    return 100.0 * (b[7] - a[7]) / total if total > 0 else None


def goals(made, pinned, med):
    out = []

    def add(what, goal, got, ok):
        out.append([what, goal, got, "met" if ok else "not met"])

    if med:
        ours, node = med[("invoke_dynamodb", "wall_ms")], med[("invoke_node", "wall_ms")]
        rss = med[("invoke_node", "rss_kib")] / med[("invoke_dynamodb", "rss_kib")]
        add("cold invoke on dynalite against Node", "≥ 50× faster, ≤ 1/8 peak RSS",
            f"{node / ours:.1f}× faster, 1/{rss:.1f} RSS", node / ours >= 50 and rss >= 8)
    g, n = made.get("get"), made.get("nginx")
    if g and n and not g.failure and not n.failure:
        ratio = g.median("rps") / n.median("rps")
        extra = ""
        gp, np_ = pinned.get("get_pinned"), pinned.get("nginx_pinned")
        if gp and np_ and not gp.failure and not np_.failure:
            extra = f" ({gp.median('rps') / np_.median('rps'):.2f}× per core)"
        add("serve GET /items/{id} against nginx", "≥ 0.7× nginx", f"{ratio:.2f}×{extra}",
            ratio >= 0.7)
        cpu = g.median("cpu_us") / n.median("cpu_us")
        add("server CPU per GET against nginx", "≤ 2×", f"{cpu:.2f}×", cpu <= 2)
    p = made.get("post")
    if p and not p.failure:
        add("durable POST /items", "≥ 30k req/s, p99 ≤ 10 ms",
            f"{p.median('rps'):,.0f} req/s, p99 {p.median('p99_ms'):.2f} ms",
            p.median("rps") >= 30000 and p.median("p99_ms") <= 10)
    return out


def text_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


SERVE_HEADER = ["target", "requests/s", "p99 ms", "vs nginx", "server CPU µs/req", "vs nginx"]
COLD_HEADER = ["cold start", "ms", "peak RSS MiB", "ratio"]
MICRO_HEADER = ["function", "ns per call (CPU)"]
GOAL_HEADER = ["goal", "target", "measured", ""]


def draw_chart(made, png):
    rows = [(label, made[key]) for key, label in CHART_ROWS
            if key in made and not made[key].failure]
    if not rows:
        return
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "serve.dat")
        with open(data, "w") as f:
            for i, (label, r) in enumerate(rows):
                color = 2 if label.startswith("nginx") else 1
                f.write(f'{i} "{label}" {r.median("rps"):.1f} {min(r.rps):.1f} {max(r.rps):.1f} '
                        f'{r.median("p99_ms"):.3f} {min(r.p99_ms):.3f} {max(r.p99_ms):.3f} '
                        f'{color}\n')
        script = f"""
set terminal pngcairo size 1400,560 font "sans,10"
set output "{png}"
set multiplot layout 1,2 title "make bench: serve against a static nginx, median of the runs (bars: min-max)"
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -35 nomirror
set linetype 1 lc rgb "#3b6ea8"
set linetype 2 lc rgb "#9a9a9a"
set key off
set logscale y
set title "requests/s (log scale; higher is better)"
plot "{data}" using 1:3:4:5:(0.7):9:xtic(2) with boxerrorbars lc variable
set title "p99 latency, ms (log scale; lower is better)"
plot "{data}" using 1:6:7:8:(0.7):9:xtic(2) with boxerrorbars lc variable
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


def replace_block(path, begin, end, text):
    with open(path) as f:
        s = f.read()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(s):
        print(f"bench-report: {path} has no {begin} … {end} block; left alone", file=sys.stderr)
        return
    s = pattern.sub(lambda _: begin + "\n" + text + "\n" + end, s)
    with open(path, "w") as f:
        f.write(s)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results")
    parser.add_argument("--markdown")
    parser.add_argument("--chart")
    parser.add_argument("--readme")
    args = parser.parse_args()
    meta, wrk, cold, micro = load(args.results)
    expected = int(re.search(r"(\d+) runs", meta.get("wrk", "3 runs")).group(1))

    serve, failures, made = build_serve_table(SERVE_ROWS, wrk, expected)
    pinned_rows, pinned_failures, pinned = [], [], {}
    if any(key in wrk for key, _, _ in PINNED_ROWS):
        pinned_rows, pinned_failures, pinned = build_serve_table(PINNED_ROWS, wrk, expected)
    failures += [f"{f} (per core)" for f in pinned_failures]
    cold_rows, cold_med = cold_table(cold)
    micro_rows = micro_table(micro)
    goal_rows = goals(made, pinned, cold_med)

    machine = (f"{meta.get('nproc', '?')} CPUs ({meta.get('cpu', '?')}), {meta.get('kernel', '?')};"
               f" load average {meta.get('load_start', '?')} at the start,"
               f" {meta.get('load_end', '?')} at the end")
    steal = steal_share(meta.get("cpu_stat_start"), meta.get("cpu_stat_end"))
    if steal is not None:
        machine += f"; CPU steal {steal:.1f}% of the run's CPU time"
    print(f"make bench, {meta.get('date', '?')}: {machine}")
    print(f"serve: {meta.get('wrk', '')}; median (min–max)\n")
    print(text_table(SERVE_HEADER, serve))
    if pinned_rows:
        print(f"\nper core: {meta.get('cpus_pinned', '')}\n")
        print(text_table(SERVE_HEADER, pinned_rows))
    if cold_rows:
        runs = len(next(iter(cold.values())))
        print(f"\ncold start, median of {runs} interleaved runs (min–max)\n")
        print(text_table(COLD_HEADER, cold_rows))
    if micro_rows:
        print("\nmicro benchmarks (Google Benchmark), median of the repetitions (min–max)\n")
        print(text_table(MICRO_HEADER, micro_rows))
    print("\ngoals\n")
    print(text_table(GOAL_HEADER, goal_rows))
    if failures:
        print("\nbench: FAILED rows (nothing written):\n  " + "\n  ".join(failures),
              file=sys.stderr)
        return 1

    serve_md = md_table(SERVE_HEADER, serve)
    pinned_md = md_table(SERVE_HEADER, pinned_rows) if pinned_rows else ""
    if args.chart:
        draw_chart({**made, **pinned}, args.chart)
    if args.markdown:
        chart_link = ""
        if args.chart:
            rel = os.path.relpath(args.chart, os.path.dirname(os.path.abspath(args.markdown)))
            chart_link = f"\n![requests/s and p99 per workload, beside nginx]({rel})\n"
        doc = f"""# Benchmarks

Written by `make bench` (`scripts/bench.sh`, summarised by `scripts/bench_report.py`); do not
edit by hand. Every number below was measured in the one run described here, and every ratio
is between two numbers of that run. How it measures, and why: [decision
13](decisions/0013-benchmarks-that-cannot-flatter.md).

- **Date:** {meta.get('date', '?')} (commit {meta.get('commit', '?')})
- **Machine:** {machine}
- **Load:** {meta.get('wrk', '')}. Each row is the median of the runs, with the
  spread (min–max); a run with any error answer or socket error fails its row.
- **Server CPU per request:** the server's user+system time over the run (all threads; nginx
  with its workers), per request answered.

## Goals
{md_table(GOAL_HEADER, goal_rows)}

## serve, unpinned
{serve_md}

## serve, per core
The server under test and nginx pinned to one CPU, wrk to another ({meta.get('cpus_pinned', '')}).

{pinned_md}
{chart_link}
## Cold start
Median of {len(next(iter(cold.values()))) if cold else 0} interleaved runs (min–max). Wall time from `posix_spawn` to exit
(invoke) or to the Runtime API stand-in's timestamp (lambda), with no wrapper process in it;
peak RSS from `/usr/bin/time`, in a second run of the same command.
On DynamoDB, `lambda`'s init reads the cursor secret, which also primes the connection.

{md_table(COLD_HEADER, cold_rows)}

## Micro benchmarks
Google Benchmark (`bench/micro`), CPU time per call, median of the repetitions (min–max).

{md_table(MICRO_HEADER, micro_rows)}
"""
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write(doc)
    if args.readme:
        steal_note = f", CPU steal {steal:.1f}%" if steal is not None else ""
        block = (f"Last `make bench` ({meta.get('date', '?')[:10]}, {meta.get('nproc', '?')} CPUs,"
                 f" load {meta.get('load_start', '?')}{steal_note}):\n\n"
                 f"{md_table(GOAL_HEADER, goal_rows)}\n\n"
                 f"{serve_md}\n\nPer core (server and nginx on one CPU, wrk on another):\n\n"
                 f"{pinned_md}\n\nThe cold starts, the micro benchmarks and the chart: "
                 f"[docs/benchmarks.md](docs/benchmarks.md).\n\n"
                 f"![requests/s and p99 per workload, beside nginx](docs/images/benchmarks.png)")
        replace_block(args.readme, "<!-- bench:begin -->", "<!-- bench:end -->", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
