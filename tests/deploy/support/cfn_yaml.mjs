// Reading CloudFormation/SAM YAML the way CloudFormation does: the short-form intrinsic tags
// (`!Ref`, `!Sub`, `!GetAtt`, ...) become their long forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`),
// so the tests see the same tree that the SAM schema and CloudFormation see.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

// Where the project's files are: tests run from the project root, and CRUD_SOURCE_DIR says so too.
export const projectRoot = process.env.CRUD_SOURCE_DIR ?? process.cwd();
export const projectPath = (...parts) => path.join(projectRoot, ...parts);

const FN_TAGS = [
  "Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select", "Split",
  "Sub", "Transform", "Equals", "Not", "And", "Or",
];

function tag(name, key, kinds, convert = (v) => v) {
  return kinds.map((collection) => ({
    tag: `!${name}`,
    ...(collection === "scalar" ? {} : { collection }),
    resolve: (value) => {
      // yaml hands collections over as YAMLMap/YAMLSeq; toJSON turns them into plain values.
      const plain = value && typeof value.toJSON === "function" ? value.toJSON() : value;
      return { [key]: convert(plain) };
    },
  }));
}

export const cfnTags = [
  ...tag("Ref", "Ref", ["scalar"]),
  ...tag("Condition", "Condition", ["scalar"]),
  // !GetAtt Resource.Attribute is the long form's [Resource, Attribute].
  ...tag("GetAtt", "Fn::GetAtt", ["scalar"], (v) => {
    const dot = v.indexOf(".");
    return [v.slice(0, dot), v.slice(dot + 1)];
  }),
  ...tag("GetAtt", "Fn::GetAtt", ["seq"]),
  ...FN_TAGS.flatMap((name) => tag(name, `Fn::${name}`, ["scalar", "seq", "map"])),
];

export function parseCfnYaml(text) {
  return parse(text, { customTags: cfnTags, uniqueKeys: true, maxAliasCount: -1 });
}

export function loadCfnYaml(relativePath) {
  return parseCfnYaml(readFileSync(projectPath(relativePath), "utf8"));
}

export const clone = (value) => structuredClone(value);

// Every node of a JSON-like tree, with its path, depth first.
export function* walk(node, trail = []) {
  yield [node, trail];
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; ++i) yield* walk(node[i], [...trail, i]);
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) yield* walk(v, [...trail, k]);
  }
}
