"""template.yaml and openapi.yaml as AWS's own tools see them.

- load(): CloudFormation YAML, the short-form intrinsic tags (!Ref, !Sub, ...) read as their long
  forms, as CloudFormation reads them.
- packaged(): the template as `sam deploy` hands it to CloudFormation: the function code an S3
  object (what `sam package` makes of CodeUri) and the AWS::Include of openapi.yaml replaced by
  the document itself. CloudFormation evaluates the most deeply nested transform first, so the
  SAM transform sees the included definition inline, with its intrinsics unresolved.
- translate(): the SAM translator (samtranslator, the code behind the AWS::Serverless transform)
  turns that into plain CloudFormation, offline: no managed policy lookups, a fixed Region.
- resolve(): evaluates Conditions, Fn::If and Ref of parameters for given parameter values, as
  CloudFormation does at deploy time, leaving other intrinsics (Fn::Sub, Fn::GetAtt, ...) as they
  are. It answers what a stack with those parameters gets.
"""

import copy
import json
import logging
import os
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("CRUD_SOURCE_DIR") or Path(__file__).resolve().parents[3])
REGION = "us-east-1"
ACCOUNT = "123456789012"

_FN_TAGS = ["Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select",
            "Split", "Sub", "Transform", "Equals", "Not", "And", "Or", "GetAtt", "Ref",
            "Condition"]


# libyaml's loader when PyYAML has it: the pure-Python one takes a second per file.
class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct(tag):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if tag in ("Ref", "Condition"):
            return {tag: value}
        if tag == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {"Fn::" + tag: value}
    return construct


for _tag in _FN_TAGS:
    _CfnLoader.add_constructor("!" + _tag, _construct(_tag))


def parse(text):
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)


_cache = {}


def load(name):
    """A fresh copy of a project file's tree (parsed once)."""
    if name not in _cache:
        _cache[name] = parse((ROOT / name).read_text(encoding="utf-8"))
    return copy.deepcopy(_cache[name])


def template():
    return load("template.yaml")


def openapi():
    return load("openapi.yaml")


def packaged(tmpl=None, doc=None):
    """The template as CloudFormation receives it from `sam deploy` (see the module's text)."""
    t = copy.deepcopy(tmpl if tmpl is not None else template())
    doc = copy.deepcopy(doc if doc is not None else openapi())
    t["Globals"]["Function"]["CodeUri"] = "s3://sam-artifacts/crud-api/bootstrap.zip"
    for resource in t["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = "s3://sam-artifacts/crud-api/bootstrap.zip"
        body = resource.get("Properties", {}).get("DefinitionBody")
        if isinstance(body, dict) and "Fn::Transform" in body:
            include = body["Fn::Transform"]
            if include.get("Name") != "AWS::Include":
                raise ValueError(f"unexpected transform {include}")
            location = include["Parameters"]["Location"]
            if Path(location).name != "openapi.yaml":
                raise ValueError(f"the definition includes {location}, not openapi.yaml")
            resource["Properties"]["DefinitionBody"] = doc
    return t


def translate(tmpl, parameters=None):
    """CloudFormation from a packaged SAM template, by AWS's SAM translator."""
    # Imported here: the translator is slow to import and only some tests need it.
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing",
                                    aws_secret_access_key="testing")
    translator = Translator(None, Parser(), boto_session=session)
    return translator.translate(copy.deepcopy(tmpl), dict(parameters or {}),
                                get_managed_policy_map=lambda: {})


NO_VALUE = object()


def _list_function(node, value_of):
    """Fn::Join, Fn::Split and Fn::Select of evaluable arguments, as CloudFormation computes
    them; None for any other node."""
    if not isinstance(node, dict) or len(node) != 1:
        return None
    (key, arg), = node.items()
    if key == "Fn::Join":
        return str(value_of(arg[0])).join(str(x) for x in value_of(arg[1]))
    if key == "Fn::Split":
        return str(value_of(arg[1])).split(str(value_of(arg[0])))
    if key == "Fn::Select":
        return value_of(arg[1])[int(value_of(arg[0]))]
    return None


def _literal(node):
    if isinstance(node, (str, int, float, bool)):
        return node
    if isinstance(node, list):
        return [_literal(x) for x in node]
    computed = _list_function(node, _literal)
    if computed is None:
        raise ValueError("not literal")
    return computed


def parameter_values(tmpl, overrides=None):
    values = {name: p.get("Default") for name, p in tmpl.get("Parameters", {}).items()}
    values.update(overrides or {})
    for name, value in values.items():
        if value is None:
            raise ValueError(f"parameter {name} has no default and no value")
        if tmpl["Parameters"].get(name, {}).get("Type") == "CommaDelimitedList" and isinstance(value, str):
            values[name] = value.split(",")
    values.update({"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                   "AWS::StackName": "crud-api", "AWS::URLSuffix": "amazonaws.com"})
    return values


def conditions(tmpl, values):
    """Every Condition of the template, evaluated for the parameter values."""
    defs = tmpl.get("Conditions", {})
    cache = {}

    def evaluate(node):
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Condition":
                return named(arg)
            if key == "Fn::Equals":
                return str(value_of(arg[0])) == str(value_of(arg[1]))
            if key == "Fn::Not":
                return not evaluate(arg[0])
            if key == "Fn::And":
                return all(evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(evaluate(a) for a in arg)
        raise ValueError(f"cannot evaluate condition {node}")

    def value_of(node):
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return values[node["Ref"]]
        if isinstance(node, (str, int, float, bool)):
            return node
        if isinstance(node, list):
            return [value_of(x) for x in node]
        computed = _list_function(node, value_of)
        if computed is not None:
            return computed
        raise ValueError(f"cannot evaluate {node} in a condition")

    def named(name):
        if name not in cache:
            cache[name] = evaluate(defs[name])
        return cache[name]

    return {name: named(name) for name in defs}


def resolve(node, tmpl, overrides=None):
    """`node` as CloudFormation leaves it for these parameters: Fn::If chosen, AWS::NoValue
    removed, Ref to a parameter replaced by its value; other intrinsics kept as they are.
    Resources and outputs whose Condition is false disappear when `node` is a template."""
    values = parameter_values(tmpl, overrides)
    conds = conditions(tmpl, values)

    def walk(n):
        if isinstance(n, list):
            out = [walk(x) for x in n]
            return [x for x in out if x is not NO_VALUE]
        if isinstance(n, dict):
            if set(n) == {"Fn::If"}:
                name, yes, no = n["Fn::If"]
                return walk(yes if conds[name] else no)
            if set(n) == {"Ref"}:
                if n["Ref"] == "AWS::NoValue":
                    return NO_VALUE
                if n["Ref"] in values and n["Ref"] in tmpl.get("Parameters", {}):
                    return values[n["Ref"]]
                return n
            if len(n) == 1 and next(iter(n)) in ("Fn::Join", "Fn::Split", "Fn::Select"):
                w = {k: walk(v) for k, v in n.items()}
                try:
                    return _literal(w)
                except (ValueError, TypeError, IndexError):
                    return w
            out = {}
            for k, v in n.items():
                if isinstance(v, dict) and isinstance(v.get("Condition"), str) and k and \
                        ("Type" in v or "Value" in v) and not conds[v["Condition"]]:
                    continue  # a resource or output that does not exist under these parameters
                w = walk(v)
                if w is not NO_VALUE:
                    out[k] = w
            return out
        return n

    result = walk(node)
    return None if result is NO_VALUE else result


def deployed(overrides=None, tmpl=None, doc=None):
    """The CloudFormation resources a stack with these parameter values gets."""
    t = packaged(tmpl, doc)
    out = translate(t, overrides)
    return resolve(out, t, overrides)


def walk(node, trail=()):
    """Every node of a JSON-like tree with its path, depth first."""
    yield node, trail
    if isinstance(node, list):
        for i, x in enumerate(node):
            yield from walk(x, trail + (i,))
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, trail + (k,))


def dumps(node):
    return json.dumps(node, sort_keys=True)
