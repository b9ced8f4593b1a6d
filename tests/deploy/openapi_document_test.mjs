// openapi.yaml is valid OpenAPI 3.0, every reference in it resolves, and its API Gateway
// extensions route each operation to the right function, validate bodies at the edge, and
// refer only to what template.yaml defines.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { clone, loadCfnYaml, walk } from "./support/cfn_yaml.mjs";
import { documentedMethods, loadOpenApi, operations, resolvePointer, schemaValidator } from "./support/openapi.mjs";

const doc = loadOpenApi();
const template = loadCfnYaml("template.yaml");

async function openApiErrors(document) {
  const result = await new Validator().validate(clone(document));
  return result.valid ? [] : [JSON.stringify(result.errors).slice(0, 2000)];
}

function danglingRefs(document) {
  const out = [];
  for (const [node, trail] of walk(document)) {
    if (node && typeof node === "object" && typeof node.$ref === "string") {
      try {
        resolvePointer(document, node.$ref);
      } catch (e) {
        out.push(`${trail.join("/")}: ${e.message}`);
      }
    }
  }
  return out;
}

// CONTRACT §1: create = POST /items; read = both GETs (and HEAD); update = PUT, PATCH, restore;
// delete = DELETE.
const EXPECTED_FUNCTION = {
  "POST /items": "CreateFunction",
  "GET /items": "ReadFunction",
  "HEAD /items": "ReadFunction",
  "GET /items/{id}": "ReadFunction",
  "HEAD /items/{id}": "ReadFunction",
  "PUT /items/{id}": "UpdateFunction",
  "PATCH /items/{id}": "UpdateFunction",
  "POST /items/{id}/restore": "UpdateFunction",
  "DELETE /items/{id}": "DeleteFunction",
};

// The function an integration invokes, through its `live` alias (template.yaml's
// AutoPublishAlias, which provisioned concurrency attaches to); null for anything else.
function functionOfUri(uri) {
  const sub = uri?.["Fn::Sub"];
  if (typeof sub !== "string") return null;
  if (!/^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path\/2015-03-31\/functions\/\$\{\w+\.Alias\}\/invocations$/.test(sub)) {
    return null;
  }
  return sub.match(/functions\/\$\{(\w+)\.Alias\}/)[1];
}

// Every problem with the document's integrations, as strings.
function routingProblems(document) {
  const problems = [];
  const seen = new Set();
  for (const { path, method, op, pathItem } of operations(document)) {
    const key = `${method.toUpperCase()} ${path}`;
    const integration = op["x-amazon-apigateway-integration"];
    if (!integration) {
      problems.push(`${key}: no x-amazon-apigateway-integration`);
      continue;
    }
    if (pathItem["x-crud-serve-only"] || pathItem["x-crud-edge-only"]) {
      if (integration.type !== "mock") problems.push(`${key}: serve-only route must not reach a function`);
      continue;
    }
    if (method === "options") {
      // CORS preflight: answered by API Gateway (both branches of HasCors are mocks).
      const branches = integration["Fn::If"];
      if (!Array.isArray(branches) || branches[0] !== "HasCors" ||
          branches[1]?.type !== "mock" || branches[2]?.type !== "mock") {
        problems.push(`${key}: preflight must be a mock chosen by HasCors`);
      }
      continue;
    }
    seen.add(key);
    if (integration.type !== "aws_proxy") problems.push(`${key}: type ${integration.type}, not aws_proxy`);
    if (integration.httpMethod !== "POST") problems.push(`${key}: integration httpMethod must be POST`);
    const fn = functionOfUri(integration.uri);
    if (fn !== EXPECTED_FUNCTION[key]) {
      problems.push(`${key}: integrated with ${fn}, expected ${EXPECTED_FUNCTION[key]}`);
    }
  }
  for (const key of Object.keys(EXPECTED_FUNCTION)) {
    if (!seen.has(key)) problems.push(`${key}: not documented`);
  }
  // Every path answers the methods it does not list with 405 and exactly its methods in Allow.
  for (const [path, item] of Object.entries(document.paths)) {
    const any = item["x-amazon-apigateway-any-method"];
    if (item["x-crud-serve-only"]) continue;
    if (item["x-crud-edge-only"]) {
      if (any?.["x-amazon-apigateway-integration"]?.type !== "mock") problems.push(`${path}: catch-all must be a mock`);
      continue;
    }
    const params = any?.["x-amazon-apigateway-integration"]?.responses?.default?.responseParameters;
    const allow = params?.["method.response.header.Allow"]?.["Fn::If"];
    const methods = documentedMethods(item);
    const withoutOptions = methods.filter((m) => m !== "OPTIONS");
    // A static mapping value is quoted: "'GET, HEAD, POST'".
    const listed = (v) => (typeof v === "string" ? v.replace(/^'|'$/g, "").split(/,\s*/).sort().join() : null);
    if (!allow || allow[0] !== "HasCors" ||
        listed(allow[1]) !== [...methods].sort().join() ||
        listed(allow[2]) !== [...withoutOptions].sort().join()) {
      problems.push(`${path}: the 405 mock's Allow does not list exactly ${methods.join(", ")}`);
    }
  }
  return problems;
}

function validatorProblems(document) {
  const problems = [];
  const validators = document["x-amazon-apigateway-request-validators"] ?? {};
  for (const { path, method, op } of operations(document)) {
    if (!op.requestBody) continue;
    const name = op["x-amazon-apigateway-request-validator"];
    if (validators[name]?.validateRequestBody !== true) {
      problems.push(`${method.toUpperCase()} ${path}: its body is not validated at the edge`);
    }
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      const schema = media.schema?.$ref ? resolvePointer(document, media.schema.$ref) : media.schema;
      if (schema?.additionalProperties !== false) {
        problems.push(`${method.toUpperCase()} ${path} ${type}: additionalProperties must be false`);
      }
    }
  }
  return problems;
}

// Ref, GetAtt, ${...} in Fn::Sub and Fn::If conditions must name what template.yaml defines.
function intrinsicProblems(document, tmpl) {
  const known = new Set([
    ...Object.keys(tmpl.Resources),
    ...Object.keys(tmpl.Parameters),
    "AWS::NoValue", "AWS::Region", "AWS::Partition", "AWS::AccountId", "AWS::StackName", "AWS::URLSuffix",
  ]);
  const conditions = new Set(Object.keys(tmpl.Conditions ?? {}));
  const problems = [];
  for (const [node, trail] of walk(document)) {
    if (!node || typeof node !== "object" || Array.isArray(node)) continue;
    const where = trail.join("/");
    if ("Ref" in node && !known.has(node.Ref)) problems.push(`${where}: Ref ${node.Ref}`);
    if ("Fn::GetAtt" in node && !known.has(node["Fn::GetAtt"][0])) problems.push(`${where}: GetAtt ${node["Fn::GetAtt"][0]}`);
    if ("Fn::If" in node && !conditions.has(node["Fn::If"][0])) problems.push(`${where}: condition ${node["Fn::If"][0]}`);
    if (typeof node["Fn::Sub"] === "string") {
      for (const [, name] of node["Fn::Sub"].matchAll(/\$\{([\w:]+)(?:\.\w+)?\}/g)) {
        if (!known.has(name)) problems.push(`${where}: Sub \${${name}}`);
      }
    }
  }
  return problems;
}

// The document as a stack deploys it: the root `security` depends on AuthType (none at all with
// NONE), so each AuthType's form is validated. Fn::If is resolved for the condition values given;
// the other intrinsics sit in x- extensions, where OpenAPI allows anything.
function asDeployed(document, conditions) {
  const resolve = (node) => {
    if (Array.isArray(node)) return node.map(resolve).filter((n) => n !== undefined);
    if (node && typeof node === "object") {
      if (Array.isArray(node["Fn::If"])) {
        const [name, yes, no] = node["Fn::If"];
        if (!(name in conditions)) return node;
        return resolve(conditions[name] ? yes : no);
      }
      if (node.Ref === "AWS::NoValue") return undefined;
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]).filter(([, v]) => v !== undefined));
    }
    return node;
  };
  return resolve(clone(document));
}
const AUTH_CONDITIONS = {
  NONE: { AuthIsIam: false, AuthIsCognito: false },
  IAM: { AuthIsIam: true, AuthIsCognito: false },
  COGNITO: { AuthIsIam: false, AuthIsCognito: true },
};

test("openapi.yaml is valid OpenAPI 3.0, as each AuthType deploys it", async () => {
  assert.match(doc.openapi, /^3\.0\.\d+$/);
  for (const [auth, conditions] of Object.entries(AUTH_CONDITIONS)) {
    assert.deepEqual(await openApiErrors(asDeployed(doc, conditions)), [], auth);
  }
  assert.equal(asDeployed(doc, AUTH_CONDITIONS.NONE).security, undefined);
  assert.deepEqual(asDeployed(doc, AUTH_CONDITIONS.IAM).security, [{ apiAuth: [] }]);
});

test("the OpenAPI validator rejects a broken document", async () => {
  const broken = asDeployed(doc, AUTH_CONDITIONS.IAM);
  delete broken.paths["/items"].post.responses;
  assert.notDeepEqual(await openApiErrors(broken), []);
});

test("every $ref resolves", () => {
  assert.deepEqual(danglingRefs(doc), []);
  const broken = clone(doc);
  broken.paths["/items"].get.responses["200"].content["application/json"].schema.$ref = "#/components/schemas/Nope";
  assert.equal(danglingRefs(broken).length, 1);
});

test("each operation is integrated with the function that serves it", () => {
  assert.deepEqual(routingProblems(doc), []);
});

test("the routing check notices a route sent to the wrong function", () => {
  const wrong = clone(doc);
  wrong.paths["/items/{id}"].delete["x-amazon-apigateway-integration"].uri["Fn::Sub"] =
    wrong.paths["/items/{id}"].get["x-amazon-apigateway-integration"].uri["Fn::Sub"];
  assert.ok(routingProblems(wrong).some((p) => p.startsWith("DELETE /items/{id}")));
  const allow = clone(doc);
  allow.paths["/items"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    .responses.default.responseParameters["method.response.header.Allow"]["Fn::If"][1] = "'GET, POST'";
  assert.ok(routingProblems(allow).some((p) => p.startsWith("/items:")));
  const exposed = clone(doc);
  exposed.paths["/health"].get["x-amazon-apigateway-integration"] =
    doc.paths["/items"].get["x-amazon-apigateway-integration"];
  assert.ok(routingProblems(exposed).some((p) => p.includes("serve-only")));
});

test("serve-only routes are marked and kept from the functions", () => {
  for (const p of ["/health", "/metrics"]) {
    assert.equal(doc.paths[p]["x-crud-serve-only"], true, p);
  }
});

test("bodies are validated at the edge, with closed schemas", () => {
  assert.deepEqual(validatorProblems(doc), []);
  const open = clone(doc);
  open.components.schemas.ReplaceItemRequest.additionalProperties = true;
  assert.equal(validatorProblems(open).length, 1);
  const unvalidated = clone(doc);
  unvalidated.paths["/items/{id}"].patch["x-amazon-apigateway-request-validator"] = "params-only";
  assert.equal(validatorProblems(unvalidated).length, 1);
});

test("version is accepted where the app accepts it, and only there", () => {
  const s = doc.components.schemas;
  assert.equal(s.CreateItemRequest.properties.version, undefined);
  assert.ok(s.ReplaceItemRequest.properties.version);
  assert.ok(s.PatchItemRequest.properties.version);
});

test("intrinsic functions refer to what template.yaml defines", () => {
  assert.deepEqual(intrinsicProblems(doc, template), []);
  const typo = clone(doc);
  typo.paths["/items"].post["x-amazon-apigateway-integration"].uri["Fn::Sub"] =
    typo.paths["/items"].post["x-amazon-apigateway-integration"].uri["Fn::Sub"].replace("CreateFunction", "CreatFunction");
  assert.equal(intrinsicProblems(typo, template).length, 1);
});

test("template.yaml includes openapi.yaml as the API definition", () => {
  const body = template.Resources.Api.Properties.DefinitionBody;
  assert.deepEqual(body, {
    "Fn::Transform": { Name: "AWS::Include", Parameters: { Location: "./openapi.yaml" } },
  });
});

// What API Gateway answers itself (gateway responses, 404/405 mocks) must be the contract's
// error envelope: each template, with its $context variables filled in, is JSON that validates
// against the Error schema.
function edgeTemplateProblems(document) {
  const validate = schemaValidator(document);
  const problems = [];
  for (const [node, trail] of walk(document)) {
    if (!node || typeof node !== "object" || typeof node.responseTemplates?.["application/json"] !== "string") continue;
    const text = node.responseTemplates["application/json"]
      .replaceAll(String.raw`$util.escapeJavaScript($context.path).replaceAll("\\'","'")`, "/a/path")
      .replaceAll("$context.error.messageString", '"Invalid request body"')
      .replace(/\$context\.[\w.]+/g, "x");
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`${trail.join("/")}: not JSON`);
      continue;
    }
    for (const e of validate({ $ref: "#/components/schemas/Error" }, body)) problems.push(`${trail.join("/")}: ${e}`);
    const status = node.statusCode ?? node.responses?.default?.statusCode;
    if (status !== undefined && Number(status) !== body.statusCode) problems.push(`${trail.join("/")}: statusCode ${body.statusCode} vs ${status}`);
  }
  return problems;
}

test("API Gateway's own answers use the error envelope", () => {
  assert.deepEqual(edgeTemplateProblems(doc), []);
  const broken = clone(doc);
  broken["x-amazon-apigateway-gateway-responses"].THROTTLED.responseTemplates["application/json"] =
    '{"statusCode":$context.error.responseType}';
  assert.equal(edgeTemplateProblems(broken).length, 1);
});
