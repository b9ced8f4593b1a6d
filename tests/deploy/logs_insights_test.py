"""The saved Logs Insights queries of template.yaml, run over real request log lines.

The binary (`crud-api invoke`, CRUD_API_BIN) handles the example events and a few variations
of them; its stderr holds the JSON request lines and EMF lines a function writes to CloudWatch.
Each query, read from the template's AWS::Logs::QueryDefinition, runs here through a small
evaluator of the part of the Logs Insights language the queries use (filter, fields, stats with
count/sum/avg/min/max/pct, sort, limit; ispresent, comparisons, and/or/not, arithmetic). The
evaluator refuses a field no log line has and a filter that keeps no line, so a query that
names a field the logs lack, or filters on a value they never carry, fails here. What it cannot
show: that CloudWatch parses the query the same way (a deployed stack's console does).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

BINARY = os.environ.get("CRUD_API_BIN") or str(cfn.ROOT / "build" / "crud-api")
QUERIES = ["ErrorRateQuery", "DurationQuery", "SlowestRequestsQuery", "ClientErrorsQuery",
           "RequestTrailQuery"]
FUNCTION_LOG_GROUPS = ["CreateFunctionLogGroup", "ReadFunctionLogGroup", "UpdateFunctionLogGroup",
                       "DeleteFunctionLogGroup"]


class QueryProblem(Exception):
    pass


# ------------------------------------------------------------------------------- the language
_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^']*'|"[^"]*")|"""
                    r"""(?P<op>>=|<=|!=|=|<|>|\*|/|\+|-|\(|\)|,)|(?P<name>[@A-Za-z_][\w.@]*))""")
_AGGREGATES = {"count", "sum", "avg", "min", "max", "pct"}


def tokens(text):
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryProblem(f"cannot read {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        out.append((kind, value[1:-1] if kind == "str" else value))
    return out


class _Parser:
    """Expressions as nested tuples: ("field", name), ("lit", v), ("call", fn, args),
    ("bin", op, a, b), ("not", a), ("star",)."""

    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self, value=None):
        if self.i >= len(self.toks):
            return None
        tok = self.toks[self.i]
        return tok if value is None or tok[1].lower() == value else None

    def take(self, value=None):
        tok = self.peek(value)
        if tok is None:
            raise QueryProblem(f"expected {value or 'more'} at {self.toks[self.i:]}")
        self.i += 1
        return tok

    def expr(self):
        return self.disjunction()

    def disjunction(self):
        a = self.conjunction()
        while self.peek("or"):
            self.take()
            a = ("bin", "or", a, self.conjunction())
        return a

    def conjunction(self):
        a = self.negation()
        while self.peek("and"):
            self.take()
            a = ("bin", "and", a, self.negation())
        return a

    def negation(self):
        if self.peek("not"):
            self.take()
            return ("not", self.negation())
        return self.comparison()

    def comparison(self):
        a = self.sum()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "!=", "<", ">", "<=", ">="):
            self.take()
            return ("bin", tok[1], a, self.sum())
        return a

    def sum(self):
        a = self.product()
        while self.peek() and self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            a = ("bin", op, a, self.product())
        return a

    def product(self):
        a = self.atom()
        while self.peek() and self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            a = ("bin", op, a, self.atom())
        return a

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value))
        if kind == "str":
            return ("lit", value)
        if value == "(":
            e = self.expr()
            self.take(")")
            return e
        if value == "*":
            return ("star",)
        if kind == "name":
            if self.peek("("):
                self.take()
                args = []
                while not self.peek(")"):
                    args.append(self.expr())
                    if self.peek(","):
                        self.take()
                self.take(")")
                return ("call", value.lower(), args)
            return ("field", value)
        raise QueryProblem(f"unexpected {value!r}")

    def named_list(self):
        """`expr [as name], ...` up to `by` or the end."""
        items = []
        while self.peek() is not None and not self.peek("by"):
            e = self.expr()
            name = None
            if self.peek("as"):
                self.take()
                name = self.take()[1]
            items.append((e, name or _text(e)))
            if self.peek(","):
                self.take()
        return items


def _text(e):
    if e[0] == "field":
        return e[1]
    if e[0] == "call":
        return f"{e[1]}({','.join(_text(a) for a in e[2])})"
    return repr(e)


def fields_of(e):
    if e[0] == "field":
        yield e[1]
    elif e[0] == "call":
        for a in e[2]:
            yield from fields_of(a)
    elif e[0] == "bin":
        yield from fields_of(e[2])
        yield from fields_of(e[3])
    elif e[0] == "not":
        yield from fields_of(e[1])


def evaluate(e, row, group=None):
    kind = e[0]
    if kind == "lit":
        return e[1]
    if kind == "field":
        return row.get(e[1])
    if kind == "not":
        return not evaluate(e[1], row, group)
    if kind == "call":
        fn, args = e[1], e[2]
        if fn == "ispresent":
            return row.get(args[0][1]) is not None
        if fn in _AGGREGATES:
            if group is None:
                raise QueryProblem(f"{fn}() outside stats")
            if fn == "count":
                return len(group) if args[0][0] == "star" else \
                    sum(1 for r in group if evaluate(args[0], r) is not None)
            values = [v for v in (evaluate(args[0], r) for r in group) if v is not None]
            values = [float(v) for v in values]
            if fn == "sum":
                return sum(values)
            if not values:
                return None
            if fn == "avg":
                return sum(values) / len(values)
            if fn == "min":
                return min(values)
            if fn == "max":
                return max(values)
            ranked = sorted(values)  # pct: nearest rank
            rank = max(1, -(-int(evaluate(args[1], row)) * len(ranked) // 100))
            return ranked[rank - 1]
        raise QueryProblem(f"function {fn}() is not known to this evaluator")
    if kind == "bin":
        op = e[1]
        if op == "and":
            return bool(evaluate(e[2], row, group)) and bool(evaluate(e[3], row, group))
        if op == "or":
            return bool(evaluate(e[2], row, group)) or bool(evaluate(e[3], row, group))
        a, b = evaluate(e[2], row, group), evaluate(e[3], row, group)
        if a is None or b is None:
            return None if op in "+-*/" else False
        if op in ("<", ">", "<=", ">=") or op in "+-*/":
            a, b = float(a), float(b)
        if op in "+-*/":
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
        if op in ("=", "!="):
            same = str(a) == str(b) or (_number(a) is not None and _number(a) == _number(b))
            return same if op == "=" else not same
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    raise QueryProblem(f"cannot evaluate {e}")


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def split_commands(query):
    parts, quote, current = [], None, ""
    for ch in query:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "|":
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def run(query, lines):
    """The query's result rows over `lines` (flattened JSON objects). Raises QueryProblem for a
    field no line has or a filter that keeps nothing."""
    known = set().union(*(line.keys() for line in lines))
    rows = [dict(line) for line in lines]

    def check(e, defined):
        for name in fields_of(e):
            if name not in known and name not in defined:
                raise QueryProblem(f"field {name} is in no log line")

    defined = set()
    for command in split_commands(query):
        verb, _, rest = command.partition(" ")
        p = _Parser(tokens(rest))
        verb = verb.lower()
        if verb == "filter":
            e = p.expr()
            check(e, defined)
            rows = [r for r in rows if evaluate(e, r)]
            if not rows:
                raise QueryProblem(f"`{command}` keeps no log line")
        elif verb == "fields":
            items = p.named_list()
            for e, name in items:
                check(e, defined)
                defined.add(name)
            rows = [{**r, **{name: evaluate(e, r) for e, name in items}} for r in rows]
        elif verb == "stats":
            items = p.named_list()
            keys = []
            if p.peek("by"):
                p.take()
                keys = [name for _, name in p.named_list()]
            for e, _ in items:
                check(e, defined)
            for k in keys:
                if k not in known and k not in defined:
                    raise QueryProblem(f"field {k} is in no log line")
            groups = {}
            for r in rows:
                groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
            rows = [{**dict(zip(keys, key)), **{name: evaluate(e, group[0], group) for e, name in items}}
                    for key, group in groups.items()]
            known = set(keys)
            defined = {name for _, name in items}
        elif verb == "sort":
            name = p.take()[1]
            desc = bool(p.peek("desc"))
            if name not in known and name not in defined:
                raise QueryProblem(f"field {name} is in no log line")
            rows.sort(key=lambda r: (r.get(name) is None, r.get(name)), reverse=desc)
        elif verb == "limit":
            rows = rows[:int(p.take()[1])]
        else:
            raise QueryProblem(f"command {verb} is not known to this evaluator")
    return rows


# -------------------------------------------------------------------------------- the logs
def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def invoke_lines():
    """The log lines of the example events and of a few variations (a malformed body, a second
    correlation id), as CloudWatch would store them, with its @ fields."""
    events = sorted((cfn.ROOT / "examples" / "events").glob("*.json"))
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        bad = json.loads((cfn.ROOT / "examples" / "events" / "create-v1.json").read_text())
        bad["body"] = "{not json"
        bad.setdefault("headers", {})["X-Correlation-Id"] = "malformed-create"
        (Path(tmp) / "bad-create.json").write_text(json.dumps(bad))
        for event in events + [Path(tmp) / "bad-create.json"]:
            run_ = subprocess.run([BINARY, "invoke", "--db", str(Path(tmp) / "items.db"), "--event", str(event)],
                                  capture_output=True, text=True, timeout=60, check=False,
                                  env={**os.environ, "POWERTOOLS_SERVICE_NAME": "crud-api"})
            if run_.returncode != 0:
                raise AssertionError(f"invoke {event.name}: {run_.stderr}")
            for i, text in enumerate(run_.stderr.splitlines()):
                if text.startswith("{"):
                    line = flatten(json.loads(text))
                    line["@message"] = text
                    line["@timestamp"] = line.get("timestamp") or str(line.get("_aws.Timestamp"))
                    line["@logStream"] = event.stem
                    lines.append(line)
    return lines


def query_of(tmpl, name):
    return tmpl["Resources"][name]["Properties"]["QueryString"]


class LogsInsights(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmpl = cfn.template()
        cls.lines = invoke_lines()
        cls.requests = [x for x in cls.lines if "statusCode" in x]

    def test_the_logs_hold_requests_and_metrics(self):
        self.assertGreaterEqual(len(self.requests), 12)
        self.assertTrue(any("_aws.Timestamp" in x for x in self.lines), "no EMF line")
        self.assertTrue(any(x["statusCode"] >= 400 for x in self.requests))

    def test_every_saved_query_exists_over_the_functions_logs(self):
        for name in QUERIES:
            with self.subTest(name=name):
                res = self.tmpl["Resources"].get(name, {})
                self.assertEqual(res.get("Type"), "AWS::Logs::QueryDefinition")
                groups = res["Properties"]["LogGroupNames"]
                for group in FUNCTION_LOG_GROUPS:
                    self.assertIn({"Ref": group}, groups)

    def test_error_rate_by_operation(self):
        rows = run(query_of(self.tmpl, "ErrorRateQuery"), self.lines)
        by_op = {r["operation"]: r for r in rows}
        self.assertEqual(set(by_op), {x["operation"] for x in self.requests})
        self.assertEqual(sum(r["requests"] for r in rows), len(self.requests), "EMF lines are not requests")
        for op, r in by_op.items():
            errors = sum(1 for x in self.requests if x["operation"] == op and x["statusCode"] >= 500)
            self.assertEqual(r["errors"], errors)
            self.assertEqual(r["errorRatePercent"], errors * 100 / r["requests"])

    def test_duration_percentiles_by_operation(self):
        rows = run(query_of(self.tmpl, "DurationQuery"), self.lines)
        self.assertEqual({r["operation"] for r in rows}, {x["operation"] for x in self.requests})
        for r in rows:
            durations = [x["duration"] for x in self.requests if x["operation"] == r["operation"]]
            self.assertLessEqual(r["p50"], r["p99"])
            self.assertLess(len(durations), 100)
            self.assertEqual(r["p99"], max(durations), "p99 of fewer than 100 values is the largest")
        self.assertEqual([r["p99"] for r in rows], sorted((r["p99"] for r in rows), reverse=True))

    def test_slowest_requests_carry_their_correlation_ids(self):
        rows = run(query_of(self.tmpl, "SlowestRequestsQuery"), self.lines)
        self.assertEqual(rows[0]["duration"], max(x["duration"] for x in self.requests))
        self.assertEqual(len(rows), min(25, len(self.requests)))
        for r in rows:
            self.assertTrue(r["correlationId"])
            self.assertTrue(r["requestId"])

    def test_4xx_by_error_code(self):
        rows = run(query_of(self.tmpl, "ClientErrorsQuery"), self.lines)
        counted = {(r["errorCode"], r["operation"]): r["responses"] for r in rows}
        want = {}
        for x in self.requests:
            if 400 <= x["statusCode"] < 500:
                want[(x["errorCode"], x["operation"])] = want.get((x["errorCode"], x["operation"]), 0) + 1
        self.assertEqual(counted, want)
        self.assertIn("NOT_FOUND", {code for code, _ in counted})
        self.assertIn("BAD_REQUEST", {code for code, _ in counted})  # the malformed body

    def test_one_requests_trail_by_correlation_id(self):
        query = query_of(self.tmpl, "RequestTrailQuery")
        self.assertIn("CORRELATION_ID", query)
        rows = run(query.replace("CORRELATION_ID", "malformed-create"), self.lines)
        self.assertEqual({r["correlationId"] for r in rows}, {"malformed-create"})
        self.assertEqual([r["statusCode"] for r in rows], [400])
        with self.assertRaises(QueryProblem):
            run(query.replace("CORRELATION_ID", "nobody-sent-this"), self.lines)

    def test_the_evaluator_refuses_unknown_fields_and_empty_filters(self):
        with self.assertRaisesRegex(QueryProblem, "durationMs"):
            run(query_of(self.tmpl, "DurationQuery").replace("pct(duration, 99)", "pct(durationMs, 99)"), self.lines)
        with self.assertRaisesRegex(QueryProblem, "keeps no log line"):
            run(query_of(self.tmpl, "ClientErrorsQuery").replace("statusCode < 500", "statusCode < 400"), self.lines)
        with self.assertRaisesRegex(QueryProblem, "not known"):
            run("filter ispresent(duration) | dedup operation", self.lines)

    def test_the_dashboard_runs_the_same_queries_on_the_function_logs(self):
        body = self.tmpl["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
        widgets = json.loads(body)["widgets"]
        logs = [w["properties"]["query"] for w in widgets if w["type"] == "log"]
        self.assertEqual(len(logs), 4)
        groups = {f"/aws/lambda/${{AWS::StackName}}-{fn}" for fn in ("create", "read", "update", "delete")}
        for name in QUERIES[:4]:
            with self.subTest(name=name):
                query = query_of(self.tmpl, name)
                matching = [q for q in logs if q.endswith(" | " + query)]
                self.assertEqual(len(matching), 1, f"the dashboard does not run {name}")
                sources = set(re.findall(r"SOURCE '([^']+)'", matching[0]))
                self.assertEqual(sources, groups)
        for group in FUNCTION_LOG_GROUPS:
            name = self.tmpl["Resources"][group]["Properties"]["LogGroupName"]["Fn::Sub"]
            self.assertIn(name, groups)
        text = [w for w in widgets if w["type"] == "text"]
        self.assertTrue(text and "request-trail" in text[0]["properties"]["markdown"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
