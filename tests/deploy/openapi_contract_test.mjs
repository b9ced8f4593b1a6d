// openapi.yaml and the binary agree, both ways, through `crud-api invoke` with API Gateway REST
// (v1) events:
//  - every documented operation answers with documented statuses, bodies that validate against
//    the documented schema, and the documented headers;
//  - every documented (operation, status) is exercised, or listed below with the reason it
//    cannot be reproduced offline;
//  - every method a documented path does not list gets 405 with Allow naming exactly the listed
//    ones, and undocumented paths get 404;
//  - the request-body schemas API Gateway validates with accept and reject what the app does.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { invoke, scratchStore } from "./support/invoke.mjs";
import { deref, documentedMethods, loadOpenApi, operations, schemaValidator } from "./support/openapi.mjs";

const doc = loadOpenApi();
const validate = schemaValidator(doc);
const CORS_ORIGIN = "https://app.example.com";
const ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const JSON_TYPE = { "Content-Type": "application/json" };

// The operation documented for a concrete request path and method.
function operationFor(method, concretePath) {
  for (const { path, method: m, op, pathItem } of operations(doc)) {
    if (m !== method.toLowerCase() || pathItem["x-crud-edge-only"]) continue;
    const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (re.test(concretePath)) return { path, op: deref(doc, op) };
  }
  return null;
}

// Statuses a documented operation lists that `invoke` on SQLite cannot produce, and why.
const NOT_REPRODUCIBLE = {
  429: "rate limiting is the server's (serve) or API Gateway's throttling, not the app's",
  500: "needs an internal failure",
  503: "needs the store unreachable or throttled",
  "createItem 409": "needs a concurrent request holding the Idempotency-Key",
  "deleteItem 409": "needs concurrent writers to keep winning the version race",
  "restoreItem 409": "needs concurrent writers to keep winning the version race",
  "health *": "serve only",
  "metrics *": "serve only",
};

const exercised = new Set();

// Checks one response against the documentation; returns the problems.
function checkAgainstDoc(method, concretePath, res) {
  const found = operationFor(method, concretePath);
  if (!found) return [`${method} ${concretePath}: not documented`];
  const { op } = found;
  exercised.add(`${op.operationId} ${res.status}`);
  const documented = op.responses[String(res.status)];
  if (!documented) return [`${op.operationId}: status ${res.status} is not documented`];
  const problems = [];
  const where = `${op.operationId} ${res.status}`;
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`${where}: documented header ${name} missing`);
      continue;
    }
    const typed = header.schema?.type === "integer" ? Number(value) : value;
    for (const e of validate(header.schema, typed)) problems.push(`${where}: header ${name} ${e}`);
  }
  // The other way: the API's own headers that came back are documented for this response.
  const documentedNames = new Set(Object.keys(documented.headers ?? {}).map((n) => n.toLowerCase()));
  for (const name of ["etag", "location", "retry-after", "allow", "idempotent-replayed",
                      "access-control-allow-methods", "access-control-max-age"]) {
    if (name in res.headers && !documentedNames.has(name)) {
      problems.push(`${where}: header ${name} is sent but not documented`);
    }
  }
  if (!res.headers["content-type"]?.startsWith("application/json")) {
    problems.push(`${where}: Content-Type ${res.headers["content-type"]}`);
  }
  const content = documented.content?.["application/json"];
  if (method !== "HEAD" && content) {
    for (const e of validate(content.schema, res.body)) problems.push(`${where}: body ${e}`);
  } else if (method !== "HEAD" && res.body !== "" && res.body !== undefined && res.body !== null) {
    problems.push(`${where}: a body was sent where none is documented`);
  }
  return problems;
}

describe("with CORS configured", () => {
  let store;
  const env = () => store.env;
  const call = (method, path, extra = {}) => {
    const res = invoke(env(), { method, path, ...extra });
    const problems = checkAgainstDoc(method, path, res);
    assert.deepEqual(problems, [], `${method} ${path}`);
    return res;
  };
  let itemId;
  let etag;

  before(() => {
    store = scratchStore({ CORS_ALLOW_ORIGIN: CORS_ORIGIN });
  });
  after(() => store.close());

  test("POST /items", () => {
    const created = call("POST", "/items", {
      headers: JSON_TYPE,
      body: JSON.stringify({ name: "Sample Item", description: "This is a sample item for testing" }),
    });
    assert.equal(created.status, 201);
    itemId = created.body.data.id;
    etag = created.headers.etag;
    assert.equal(created.headers.location, `/dev/items/${itemId}`);

    const key = { ...JSON_TYPE, "Idempotency-Key": "order-42" };
    const first = call("POST", "/items", { headers: key, body: '{"name":"Once"}' });
    const replay = call("POST", "/items", { headers: key, body: '{ "name": "Once" }' });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers["idempotent-replayed"], "true");
    assert.deepEqual(replay.body, first.body);
    assert.equal(call("POST", "/items", { headers: key, body: '{"name":"Twice"}' }).status, 422);

    assert.equal(call("POST", "/items", { headers: JSON_TYPE, body: "{" }).status, 400);
    assert.equal(call("POST", "/items", { headers: JSON_TYPE, body: "[]" }).status, 400);
    const invalid = call("POST", "/items", { headers: JSON_TYPE, body: '{"name":"","color":1}' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.error.details.map((d) => d.field).sort(), ["color", "name"]);
    assert.equal(call("POST", "/items", { headers: { "Content-Type": "text/plain" }, body: '{"name":"a"}' }).status, 415);
    assert.equal(call("POST", "/items", { headers: JSON_TYPE, body: JSON.stringify({ name: "a", description: "x".repeat(70000) }) }).status, 413);
    assert.equal(call("POST", "/items", { headers: { ...JSON_TYPE, "Idempotency-Key": "k".repeat(256) }, body: '{"name":"a"}' }).status, 400);
  });

  test("GET and HEAD /items", () => {
    const page = call("GET", "/items", { query: { limit: "1" } });
    assert.equal(page.status, 200);
    assert.equal(page.body.pagination.count, 1);
    assert.equal(typeof page.body.pagination.lastKey, "string");
    assert.equal(call("GET", "/items", { query: { lastKey: page.body.pagination.lastKey } }).status, 200);
    assert.equal(call("GET", "/items", { query: { limit: "0" } }).status, 400);
    assert.equal(call("GET", "/items", { query: { lastKey: "forged" } }).status, 400);
    assert.equal(call("HEAD", "/items").status, 200);
    assert.equal(call("HEAD", "/items", { query: { limit: "101" } }).status, 400);
  });

  test("GET and HEAD /items/{id}", () => {
    assert.equal(call("GET", `/items/${itemId}`).status, 200);
    assert.equal(call("GET", `/items/${itemId}`, { headers: { "If-None-Match": etag } }).status, 304);
    assert.equal(call("GET", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC").status, 404);
    assert.equal(call("HEAD", `/items/${itemId}`).status, 200);
    assert.equal(call("HEAD", `/items/${itemId}`, { headers: { "If-None-Match": etag } }).status, 304);
    assert.equal(call("HEAD", "/items/nope").status, 404);
  });

  test("X-Correlation-Id is echoed", () => {
    const res = call("GET", `/items/${itemId}`, { headers: { "X-Correlation-Id": "trace-me-1" } });
    assert.equal(res.headers["x-correlation-id"], "trace-me-1");
  });

  test("PUT and PATCH /items/{id}", () => {
    for (const [method, type] of [["PUT", "application/json"], ["PATCH", "application/merge-patch+json"]]) {
      const headers = { "Content-Type": type };
      const current = call("GET", `/items/${itemId}`);
      const ok = call(method, `/items/${itemId}`, { headers: { ...headers, "If-Match": current.headers.etag }, body: JSON.stringify({ name: `${method} name`, version: current.body.data.version }) });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.version, current.body.data.version + 1);
      assert.equal(call(method, `/items/${itemId}`, { headers, body: '{"name":"x","version":1}' }).status, 409);
      assert.equal(call(method, `/items/${itemId}`, { headers: { ...headers, "If-Match": current.headers.etag }, body: '{"name":"y"}' }).status, 412);
      assert.equal(call(method, "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC", { headers, body: '{"name":"y"}' }).status, 404);
      assert.equal(call(method, `/items/${itemId}`, { headers, body: '{"name":5}' }).status, 400);
      assert.equal(call(method, `/items/${itemId}`, { headers: { "Content-Type": "text/csv" }, body: '{"name":"y"}' }).status, 415);
      assert.equal(call(method, `/items/${itemId}`, { headers, body: JSON.stringify({ name: "a".repeat(70000) }) }).status, 413);
    }
    const reset = call("PATCH", `/items/${itemId}`, { headers: JSON_TYPE, body: '{"description":null}' });
    assert.equal(reset.body.data.description, "");
  });

  test("DELETE and restore", () => {
    const stale = call("GET", `/items/${itemId}`).headers.etag.replace(/\.v\d+"$/, '.v999"');
    assert.equal(call("DELETE", `/items/${itemId}`, { headers: { "If-Match": stale } }).status, 412);
    assert.equal(call("DELETE", `/items/${itemId}`, { query: { mode: "later" } }).status, 400);
    assert.equal(call("DELETE", `/items/${itemId}`, { body: "x".repeat(70000) }).status, 413);
    const soft = call("DELETE", `/items/${itemId}`, { query: { mode: "soft" } });
    assert.deepEqual(soft.body.data, { id: itemId, deleted: "soft" });
    assert.equal(call("GET", `/items/${itemId}`).status, 404);
    assert.equal(call("POST", `/items/${itemId}/restore`, { headers: { "If-Match": stale } }).status, 412);
    const restored = call("POST", `/items/${itemId}/restore`);
    assert.equal(restored.status, 200);
    assert.equal(call("POST", `/items/${itemId}/restore`).status, 404);
    const hard = call("DELETE", `/items/${itemId}`, { query: { mode: "hard" } });
    assert.equal(hard.body.data.deleted, "hard");
    assert.equal(call("DELETE", `/items/${itemId}`).status, 404);
  });

  test("OPTIONS answers the preflight on every API path, as the edge's mock does", () => {
    const headerSet = (value) => value.split(/,\s*/).map((h) => h.toLowerCase()).sort();
    for (const path of ["/items", "/items/{id}", "/items/{id}/restore"]) {
      const res = call("OPTIONS", path.replace("{id}", itemId));
      assert.equal(res.status, 204, path);
      assert.equal(res.headers["access-control-allow-origin"], CORS_ORIGIN);
      // With CORS on, API Gateway answers the preflight itself: a browser must be allowed the
      // same request headers either way, the SigV4 ones included for AuthType IAM.
      const mock = doc.paths[path].options["x-amazon-apigateway-integration"]["Fn::If"][1];
      const edge = mock.responses.default.responseParameters[
        "method.response.header.Access-Control-Allow-Headers"].replace(/^'|'$/g, "");
      const served = res.headers["access-control-allow-headers"];
      assert.deepEqual(headerSet(served), headerSet(edge), path);
      for (const h of ["authorization", "x-amz-date", "x-amz-security-token"]) {
        assert.ok(headerSet(served).includes(h), `${path}: ${h} missing from ${served}`);
      }
    }
  });

  test("every method a documented path does not list gets 405 with exactly its methods", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      if (item["x-crud-serve-only"] || item["x-crud-edge-only"]) continue;
      const concrete = path.replace("{id}", "item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC");
      const listed = documentedMethods(item);
      for (const method of ALL_METHODS.filter((m) => !listed.includes(m))) {
        const res = invoke(env(), { method, path: concrete, headers: JSON_TYPE, body: method === "GET" ? null : "{}" });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.deepEqual(res.headers.allow.split(/,\s*/).sort(), [...listed].sort(), `${method} ${path}`);
        assert.equal(res.body.error.code, "METHOD_NOT_ALLOWED");
      }
    }
  });

  test("undocumented paths get 404, and so do serve-only ones through the Lambda events", () => {
    for (const path of ["/things", "/items/x/y", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC/restore/extra", "/", "/items/", "/health", "/metrics"]) {
      for (const method of ["GET", "POST", "DELETE"]) {
        const res = invoke(env(), { method, path, headers: JSON_TYPE, body: method === "GET" ? null : "{}" });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.error.code, "NOT_FOUND");
      }
    }
  });
});

describe("without CORS", () => {
  let store;
  before(() => {
    store = scratchStore();
  });
  after(() => store.close());

  test("OPTIONS gets 405 and Allow lists the documented methods but OPTIONS", () => {
    for (const [path, concrete] of [["/items", "/items"], ["/items/{id}", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC"], ["/items/{id}/restore", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC/restore"]]) {
      const res = invoke(store.env, { method: "OPTIONS", path: concrete });
      assert.deepEqual(checkAgainstDoc("OPTIONS", concrete, res), []);
      assert.equal(res.status, 405);
      const expected = documentedMethods(doc.paths[path]).filter((m) => m !== "OPTIONS").sort();
      assert.deepEqual(res.headers.allow.split(/,\s*/).sort(), expected);
      assert.equal(res.headers["access-control-allow-origin"], undefined);
    }
  });
});

describe("coverage", () => {
  test("every documented status was exercised or cannot be reproduced offline", () => {
    const missing = [];
    for (const { op } of operations(doc)) {
      for (const status of Object.keys(op.responses)) {
        const key = `${op.operationId} ${status}`;
        if (exercised.has(key) || NOT_REPRODUCIBLE[status] || NOT_REPRODUCIBLE[key] ||
            NOT_REPRODUCIBLE[`${op.operationId} *`]) continue;
        missing.push(key);
      }
    }
    assert.deepEqual(missing, []);
  });
});

// The request schemas API Gateway validates bodies with, against the app's own validation, on
// bodies at the edges of every rule. Accepted by the app: 201 (create) or 404 (PUT/PATCH on a
// missing item: the body is validated first). Rejected: 400.
describe("edge validation agrees with the app", () => {
  let store;
  before(() => {
    store = scratchStore();
  });
  after(() => store.close());

  const x = (n, c = "x") => c.repeat(n);
  const names = [
    "a", "", "   ", " a ", x(200), x(201), `  ${x(200)}\n\t`, `\t${x(199)}b `, x(200, "😀"), x(201, "😀"),
    "a\u0001b", "a\nb", "a\tb", "\u0085a", "a\u007f", "\u00a0", "a b", "é", 5, null, true, ["a"],
  ];
  const descriptions = [
    "", x(2000), x(2001), x(2000, "😀"), x(2001, "é"), "line\nline\ttab", "cr\r", "\u0000", "a\u009f",
    null, 5, {},
  ];
  const versions = [1, 2, 0, -1, "1", 1.5, null];
  const bodies = [];
  for (const name of names) bodies.push({ name });
  for (const description of descriptions) bodies.push({ name: "a", description }, { description });
  for (const version of versions) bodies.push({ name: "a", version }, { version });
  bodies.push({}, { name: "a", extra: 1 }, { name: "a", id: "item_x" }, { createdAt: "x" });

  const cases = [
    ["POST", "/items", "CreateItemRequest", 201],
    ["PUT", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC", "ReplaceItemRequest", 404],
    ["PATCH", "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC", "PatchItemRequest", 404],
  ];
  for (const [method, path, schemaName, acceptedStatus] of cases) {
    test(`${method} bodies: ${schemaName}`, () => {
      const disagreements = [];
      for (const body of bodies) {
        const edgeAccepts = validate({ $ref: `#/components/schemas/${schemaName}` }, body).length === 0;
        const res = invoke(store.env, { method, path, headers: JSON_TYPE, body: JSON.stringify(body) });
        assert.ok([acceptedStatus, 400].includes(res.status), `${method} ${JSON.stringify(body)}: ${res.status}`);
        const appAccepts = res.status === acceptedStatus;
        if (edgeAccepts !== appAccepts) {
          disagreements.push(`${JSON.stringify(body).slice(0, 80)}: edge ${edgeAccepts ? "accepts" : "rejects"}, app ${appAccepts ? "accepts" : "rejects"}`);
        }
      }
      assert.deepEqual(disagreements, []);
    });
  }

  test("the agreement check can fail: a looser name schema is caught", () => {
    const loose = schemaValidator({ components: { schemas: { N: { type: "object", properties: { name: { type: "string" } } } } } });
    const res = invoke(store.env, { method: "POST", path: "/items", headers: JSON_TYPE, body: '{"name":""}' });
    assert.equal(res.status, 400);
    assert.deepEqual(loose({ $ref: "#/components/schemas/N" }, { name: "" }), []);
  });
});
