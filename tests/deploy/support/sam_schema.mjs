// Validation of a SAM template against the published SAM JSON Schema (draft-04), read in place
// from the shared test data.
import { readFileSync } from "node:fs";
import Ajv04 from "ajv-draft-04";
import { projectPath } from "./cfn_yaml.mjs";

let validator;

function compile() {
  const schema = JSON.parse(
    readFileSync(projectPath("..", "shared", "testdata", "sam-schema", "sam.schema.json"), "utf8"),
  );
  // The schema carries its own annotations (`__samPassThrough`, markdown descriptions):
  // non-strict mode lets them through as unknown keywords.
  const ajv = new Ajv04({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(schema);
}

// The schema errors of `template` (an already-parsed tree), as readable strings; [] when valid.
export function samSchemaErrors(template) {
  validator ??= compile();
  if (validator(template)) return [];
  return validator.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
}
