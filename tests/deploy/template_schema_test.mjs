// template.yaml is a valid SAM template: it passes the published SAM JSON Schema, read in place
// from ../shared/testdata/sam-schema (short-form tags read as CloudFormation reads them).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { clone, loadCfnYaml, parseCfnYaml, projectPath } from "./support/cfn_yaml.mjs";
import { samSchemaErrors } from "./support/sam_schema.mjs";

const template = loadCfnYaml("template.yaml");

test("template.yaml passes the SAM schema", () => {
  assert.equal(template.Transform, "AWS::Serverless-2016-10-31");
  assert.deepEqual(samSchemaErrors(template), []);
});

test("the schema check rejects a broken template", () => {
  const typo = clone(template);
  typo.Resources.CreateFunction.Properties.Handlr = "create";
  assert.notDeepEqual(samSchemaErrors(typo), []);
  const unknown = clone(template);
  unknown.Resources.Api.Properties.Tracing = true;
  assert.notDeepEqual(samSchemaErrors(unknown), []);
});

test("short-form tags become CloudFormation's long forms", () => {
  const parsed = parseCfnYaml(
    "a: !Ref X\nb: !GetAtt T.Arn\nc: !Sub 'x-${Y}'\nd: !If [C, 1, 2]\ne: !Join ['', [a, b]]\n" +
      "f: !Select [0, !GetAZs '']\ng: !Equals [a, b]\nh: !Condition C\ni: !Base64 x\n" +
      "j: !Split [',', 'a,b']\nk: !FindInMap [M, a, b]\nl: !ImportValue V\nm: !Not [!Condition C]\n" +
      "n: !And [!Condition C, !Condition D]\no: !Or [!Condition C, !Condition D]\np: !Cidr [x, 1, 2]\n" +
      "q: !Transform {Name: N}\n",
  );
  assert.deepEqual(parsed, {
    a: { Ref: "X" },
    b: { "Fn::GetAtt": ["T", "Arn"] },
    c: { "Fn::Sub": "x-${Y}" },
    d: { "Fn::If": ["C", 1, 2] },
    e: { "Fn::Join": ["", ["a", "b"]] },
    f: { "Fn::Select": [0, { "Fn::GetAZs": "" }] },
    g: { "Fn::Equals": ["a", "b"] },
    h: { Condition: "C" },
    i: { "Fn::Base64": "x" },
    j: { "Fn::Split": [",", "a,b"] },
    k: { "Fn::FindInMap": ["M", "a", "b"] },
    l: { "Fn::ImportValue": "V" },
    m: { "Fn::Not": [{ Condition: "C" }] },
    n: { "Fn::And": [{ Condition: "C" }, { Condition: "D" }] },
    o: { "Fn::Or": [{ Condition: "C" }, { Condition: "D" }] },
    p: { "Fn::Cidr": ["x", 1, 2] },
    q: { "Fn::Transform": { Name: "N" } },
  });
});

test("samconfig.toml builds in source and deploys with the capabilities the template needs", () => {
  const text = readFileSync(projectPath("samconfig.toml"), "utf8");
  assert.match(text, /^version\s*=\s*0\.1$/m);
  assert.match(text, /^build_in_source\s*=\s*true$/m);
  assert.match(text, /^capabilities\s*=\s*"[^"]*CAPABILITY_IAM[^"]*"$/m);
  assert.match(text, /^capabilities\s*=\s*"[^"]*CAPABILITY_AUTO_EXPAND[^"]*"$/m);
  // Every parameter it overrides exists in the template.
  const overrides = text.match(/^parameter_overrides\s*=\s*"(.*)"$/m)[1];
  for (const [, name] of overrides.matchAll(/(\w+)=\\"/g)) {
    assert.ok(template.Parameters[name], `samconfig.toml overrides unknown parameter ${name}`);
  }
});
