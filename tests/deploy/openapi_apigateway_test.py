"""openapi.yaml as API Gateway imports it.

- openapi-spec-validator accepts the document as each AuthType deploys it (the root `security`
  is the one standard field that depends on a parameter; everything else is the file as is).
- API Gateway turns every schema it meets into a model, JSON Schema draft 4, and refuses a
  model with a keyword it does not support ("Unable to create model ... Unsupported
  keyword(s)"): `example`, `nullable` (not draft 4 at all), `readOnly`, `discriminator`,
  `oneOf`, `exclusiveMinimum`, int32/int64/decimal formats on numbers. The check below allows
  a list of keywords rather than refusing a list, so a keyword nobody thought of fails too.
Each check also runs on a deliberately broken copy, to show it can fail.
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

# The draft-4 validation keywords API Gateway's models support, and the annotations it keeps.
ALLOWED = {
    "$ref", "type", "enum", "format", "description", "title", "default",
    "properties", "required", "additionalProperties", "minProperties", "maxProperties",
    "items", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "pattern",
    "minimum", "maximum", "multipleOf",
    "allOf", "anyOf", "not",
}
TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
STRING_FORMATS = {"date-time", "date", "email", "hostname", "ipv4", "ipv6", "uri"}


def model_schemas(doc):
    """(where, schema) for every schema API Gateway makes a model of: the components' schemas
    and the bodies of requests and responses (parameters become request parameters, not
    models)."""
    out = [(f"components/schemas/{name}", s) for name, s in doc.get("components", {}).get("schemas", {}).items()]
    for node, trail in cfn.walk(doc):
        if trail and trail[-1] == "content" and isinstance(node, dict):
            for media, body in node.items():
                if isinstance(body, dict) and "schema" in body:
                    out.append(("/".join(map(str, trail + (media, "schema"))), body["schema"]))
    return out


def draft4_problems(doc):
    problems = []

    def check(schema, where):
        if not isinstance(schema, dict):
            problems.append(f"{where}: a schema must be an object")
            return
        for key, value in schema.items():
            here = f"{where}/{key}"
            if key not in ALLOWED:
                problems.append(f"{here}: API Gateway does not support `{key}`")
                continue
            if key == "$ref" and not str(value).startswith("#/components/schemas/"):
                problems.append(f"{here}: {value} is not a model")
            elif key == "type" and value not in TYPES:
                problems.append(f"{here}: type {value!r}")
            elif key == "format" and (schema.get("type") != "string" or value not in STRING_FORMATS):
                problems.append(f"{here}: format {value!r} on a {schema.get('type')}")
            elif key == "properties":
                for name, sub in value.items():
                    check(sub, f"{here}/{name}")
            elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
                check(value, here)
            elif key in ("allOf", "anyOf"):
                for i, sub in enumerate(value):
                    check(sub, f"{here}/{i}")

    for where, schema in model_schemas(doc):
        check(schema, where)
    return problems


def spec_problems(doc):
    from openapi_spec_validator import validate

    try:
        validate(doc)
    except Exception as e:  # the validator's errors share no public base class across versions
        return [f"{type(e).__name__}: {str(e)[:500]}"]
    return []


def deployed_doc(auth, doc=None):
    return cfn.resolve(doc if doc is not None else cfn.openapi(), cfn.template(), {"AuthType": auth})


class OpenApiForApiGateway(unittest.TestCase):
    def test_openapi_spec_validator_accepts_the_deployed_document(self):
        for auth in ("NONE", "IAM", "COGNITO"):
            with self.subTest(auth=auth):
                self.assertEqual(spec_problems(deployed_doc(auth)), [])
        broken = deployed_doc("IAM")
        del broken["paths"]["/items"]["post"]["responses"]
        self.assertNotEqual(spec_problems(broken), [])

    def test_every_model_uses_only_keywords_api_gateway_supports(self):
        doc = cfn.openapi()
        self.assertGreater(len(model_schemas(doc)), len(doc["components"]["schemas"]))
        self.assertEqual(draft4_problems(doc), [])

    def test_the_keyword_check_catches_what_api_gateway_refuses(self):
        mutations = {
            "`example`": lambda d: d["components"]["schemas"]["ItemId"].__setitem__("example", "item_x"),
            "`nullable`": lambda d: d["components"]["schemas"]["ItemList"]["properties"]["pagination"]
            ["properties"]["limit"].__setitem__("nullable", True),
            "`oneOf`": lambda d: d["components"]["schemas"]["Error"].__setitem__("oneOf", [{"type": "object"}]),
            "`readOnly`": lambda d: d["components"]["schemas"]["Item"]["properties"]["version"].__setitem__("readOnly", True),
            "format 'int64'": lambda d: d["components"]["schemas"]["Version"].__setitem__("format", "int64"),
            "not a model": lambda d: d["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"].__setitem__("$ref", "#/components/parameters/Limit"),
        }
        for fragment, mutate in mutations.items():
            with self.subTest(fragment):
                broken = cfn.openapi()
                mutate(broken)
                problems = draft4_problems(broken)
                self.assertTrue(any(fragment in p for p in problems), problems)
        inline = cfn.openapi()
        inline["paths"]["/items"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = \
            {"type": "object", "example": {}}
        self.assertTrue(any("paths/" in p and "`example`" in p for p in draft4_problems(inline)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
