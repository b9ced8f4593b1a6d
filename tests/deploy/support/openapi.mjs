// openapi.yaml as the tests read it: the document, its local `$ref`s resolved, its operations,
// and ajv validators for the schemas it declares (OpenAPI 3.0 schemas are JSON Schema with a
// few extra keywords: `nullable`, which ajv knows, and annotations such as `example`).
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { loadCfnYaml } from "./cfn_yaml.mjs";

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export function loadOpenApi() {
  return loadCfnYaml("openapi.yaml");
}

// Follows a local reference ("#/components/...") in `doc`; throws when it leads nowhere.
export function resolvePointer(doc, ref) {
  if (!ref.startsWith("#/")) throw new Error(`not a local reference: ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) {
      throw new Error(`dangling reference: ${ref}`);
    }
    node = node[key];
  }
  return node;
}

// `node` with every {$ref} replaced by what it points at (recursively; the document has no
// reference cycles outside schemas, and schemas are left to ajv).
export function deref(doc, node, depth = 0) {
  if (depth > 50) throw new Error("reference cycle");
  if (Array.isArray(node)) return node.map((n) => deref(doc, n, depth + 1));
  if (node && typeof node === "object") {
    if (typeof node.$ref === "string") return deref(doc, resolvePointer(doc, node.$ref), depth + 1);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(doc, v, depth + 1)]));
  }
  return node;
}

// [{path, method, op}] for every operation the document lists (not the x- extensions).
export function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      if (item[method]) out.push({ path: p, method, op: item[method], pathItem: item });
    }
  }
  return out;
}

export function documentedMethods(pathItem) {
  return HTTP_METHODS.filter((m) => pathItem[m]).map((m) => m.toUpperCase());
}

// An ajv instance that knows the document's components, so a schema can be {$ref:
// "openapi#/components/schemas/Item"} or any inline schema with refs into the document.
export function schemaValidator(doc) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: doc.components });
  const cache = new Map();
  const rewrite = (node) => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [
          k,
          k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `openapi${v}` : rewrite(v),
        ]),
      );
    }
    return node;
  };
  return (schema, value) => {
    const key = JSON.stringify(schema);
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema));
      cache.set(key, validate);
    }
    const ok = validate(value);
    return ok ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
  };
}
