// Driving the built binary one API Gateway REST (v1) proxy event at a time, through
// `crud-api invoke`, as `sam local invoke` would: the event on stdin, the proxy response JSON
// on stdout. The store is SQLite in a fresh temporary folder.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectPath } from "./cfn_yaml.mjs";

// The binary: CRUD_API_BIN (ctest passes the built target's path), else the default build.
export function crudApiBinary() {
  const bin = process.env.CRUD_API_BIN ?? projectPath("build", "crud-api");
  if (!existsSync(bin)) throw new Error(`crud-api binary not found at ${bin} (set CRUD_API_BIN)`);
  return bin;
}

let counter = 0;

// A REST API (v1) proxy event as API Gateway sends it for `/{proxy+}` on stage `dev`.
export function restEvent({ method, path: p, query = {}, headers = {}, body = null }) {
  const names = Object.keys(headers);
  const queryNames = Object.keys(query);
  const requestId = `deploy-test-${process.pid}-${++counter}`;
  return {
    resource: "/{proxy+}",
    path: p,
    httpMethod: method,
    headers: names.length ? { ...headers } : null,
    multiValueHeaders: names.length
      ? Object.fromEntries(names.map((n) => [n, [headers[n]]]))
      : null,
    queryStringParameters: queryNames.length ? { ...query } : null,
    multiValueQueryStringParameters: queryNames.length
      ? Object.fromEntries(queryNames.map((n) => [n, [query[n]]]))
      : null,
    pathParameters: { proxy: p.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      resourceId: "r3s0urc3",
      resourcePath: "/{proxy+}",
      httpMethod: method,
      path: `/dev${p}`,
      stage: "dev",
      requestId,
      requestTimeEpoch: 1767225600000,
      protocol: "HTTP/1.1",
      identity: { sourceIp: "127.0.0.1", userAgent: "deploy-test" },
    },
    body,
    isBase64Encoded: false,
  };
}

// A scratch SQLite store and the environment for `invoke` against it; close() removes it.
export function scratchStore(extraEnv = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "crud-deploy-test-"));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dir,
    CRUD_STORE: "sqlite",
    CRUD_DB: path.join(dir, "items.db"),
    LOG_LEVEL: "ERROR",
    ...extraEnv,
  };
  return { dir, env, close: () => rmSync(dir, { recursive: true, force: true }) };
}

// Runs one event; returns {status, headers (lower-case names), body (parsed when JSON), raw}.
export function invoke(env, request) {
  const run = spawnSync(crudApiBinary(), ["invoke"], {
    input: JSON.stringify(restEvent(request)),
    env,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (run.status !== 0) {
    throw new Error(`crud-api invoke exited ${run.status}: ${run.stderr}`);
  }
  const out = JSON.parse(run.stdout);
  const headers = {};
  for (const [name, value] of Object.entries(out.headers ?? {})) headers[name.toLowerCase()] = value;
  let body = out.body;
  if (typeof body === "string" && body.length > 0) {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: kept as text
    }
  }
  return { status: out.statusCode, headers, body, raw: out };
}
