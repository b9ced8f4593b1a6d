#!/usr/bin/env python3
"""Derives the document `crud-api serve` answers GET /openapi.json with from openapi.yaml.

openapi.yaml is also API Gateway's DefinitionBody, so it carries what only the gateway reads.
The served document is that file with:
  - every `x-amazon-apigateway-*` extension removed (the template's intrinsics live there);
  - the paths only API Gateway answers (`x-crud-edge-only`) removed;
  - the root `security` (an `Fn::If` on the stack's AuthType) and the gateway's `apiAuth`
    scheme removed: serve adds a bearer scheme per request when it authenticates;
  - `servers` removed: serve names itself per request, as the request reached it;
  - examples added from the examples file (API Gateway's model subset refuses `example`).
Any CloudFormation intrinsic still left fails the build, so a new one cannot leak out.

usage: openapi_json.py OPENAPI_YAML EXAMPLES_YAML OUTPUT_JSON
"""

import json
import sys

import yaml

INTRINSICS = ("Ref", "Condition")


def strip_gateway(node):
    if isinstance(node, dict):
        return {k: strip_gateway(v) for k, v in node.items()
                if not k.startswith("x-amazon-apigateway-")}
    if isinstance(node, list):
        return [strip_gateway(v) for v in node]
    return node


def intrinsics_left(node, where="#"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k.startswith("Fn::") or k in INTRINSICS:
                yield f"{where}/{k}"
            yield from intrinsics_left(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from intrinsics_left(v, f"{where}/{i}")


def resolve(doc, pointer):
    node = doc
    for part in pointer.lstrip("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def add_examples(doc, examples):
    """`examples` maps a JSON pointer into the document to the example of the object there."""
    for pointer, example in examples.items():
        target = resolve(doc, pointer)
        if not isinstance(target, dict):
            sys.exit(f"openapi_json.py: example for {pointer}: no such object in openapi.yaml")
        target["example"] = example


def main(source, examples_file, output):
    with open(source, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    with open(examples_file, encoding="utf-8") as f:
        examples = yaml.safe_load(f) or {}
    doc = strip_gateway(doc)
    doc["paths"] = {p: item for p, item in doc["paths"].items()
                    if not item.get("x-crud-edge-only")}
    doc.pop("security", None)
    doc.pop("servers", None)
    schemes = doc.get("components", {}).get("securitySchemes", {})
    schemes.pop("apiAuth", None)
    if not schemes:
        doc["components"].pop("securitySchemes", None)
    add_examples(doc, examples)
    left = list(intrinsics_left(doc))
    if left:
        sys.exit("openapi_json.py: CloudFormation intrinsics outside the gateway extensions: "
                 + ", ".join(left))
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
