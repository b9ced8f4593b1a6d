// The properties of template.yaml that matter beyond its syntax: least privilege (exact action
// sets, no Scan, no wildcards), the functions' handlers, runtime, architectures and environment,
// the table against CONTRACT §4, the alarms, tracing, throttling, access logs and dashboard.
// Each checker returns its problems; each test also shows the checker failing on a mutated copy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { clone, loadCfnYaml, projectPath, walk } from "./support/cfn_yaml.mjs";

const template = loadCfnYaml("template.yaml");
const R = (t) => t.Resources;

const FUNCTIONS = {
  CreateFunction: { handler: "create", actions: ["DeleteItem", "GetItem", "PutItem", "UpdateItem"] },
  ReadFunction: { handler: "read", actions: ["GetItem", "PutItem", "Query"] },
  UpdateFunction: { handler: "update", actions: ["GetItem", "PutItem"] },
  DeleteFunction: { handler: "delete", actions: ["DeleteItem", "GetItem", "PutItem"] },
};
// The table (or, in another Region's stack, the replica it names) in the function's own Region.
const TABLE_NAME = { "Fn::If": ["OwnsTable", { Ref: "ItemsTable" }, { Ref: "ExistingTableName" }] };
const TABLE_ARN = {
  "Fn::Sub": ["arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}", { Table: TABLE_NAME }],
};
const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statementsOf(fn) {
  const out = [];
  for (const policy of asList(fn.Properties.Policies)) {
    if (typeof policy !== "object" || !policy.Statement) {
      out.push({ invalid: policy });
      continue;
    }
    out.push(...asList(policy.Statement));
  }
  return out;
}

function leastPrivilegeProblems(t) {
  const problems = [];
  for (const [name, expected] of Object.entries(FUNCTIONS)) {
    const fn = R(t)[name];
    if (!fn) {
      problems.push(`${name}: missing`);
      continue;
    }
    const actions = new Set();
    for (const s of statementsOf(fn)) {
      if (s.invalid !== undefined) {
        problems.push(`${name}: only inline policy documents are allowed, not ${JSON.stringify(s.invalid)}`);
        continue;
      }
      if (s.Effect !== "Allow") continue;
      if (JSON.stringify(asList(s.Resource)) !== JSON.stringify([TABLE_ARN])) {
        problems.push(`${name}: ${s.Sid ?? "statement"} reaches ${JSON.stringify(s.Resource)}, not just the table`);
      }
      for (const a of asList(s.Action)) {
        if (!a.startsWith("dynamodb:")) problems.push(`${name}: action ${a} is not DynamoDB's`);
        actions.add(a.replace(/^dynamodb:/, ""));
      }
      if (name === "ReadFunction" && asList(s.Action).includes("dynamodb:PutItem")) {
        // Only the cursor secret's META partition.
        const keys = s.Condition?.["ForAllValues:StringEquals"]?.["dynamodb:LeadingKeys"];
        if (JSON.stringify(keys) !== JSON.stringify(["META"])) {
          problems.push("ReadFunction: PutItem must be limited to the META partition");
        }
      }
    }
    const got = [...actions].sort();
    if (JSON.stringify(got) !== JSON.stringify(expected.actions)) {
      problems.push(`${name}: actions ${got.join(",")}, expected ${expected.actions.join(",")}`);
    }
  }
  return problems;
}

// Anywhere in the template: an IAM action that scans or is a wildcard. A KMS key policy reaches
// only its own key, so its wildcards (the account's administration through IAM, the
// GenerateDataKey* family) grant nothing beyond the key.
function forbiddenActionProblems(t) {
  const problems = [];
  for (const [node, trail] of walk(t)) {
    if (!node || typeof node !== "object" || Array.isArray(node)) continue;
    const inKeyPolicy = trail[0] === "Resources" && trail[2] === "Properties" && trail[3] === "KeyPolicy" &&
      t.Resources[trail[1]]?.Type === "AWS::KMS::Key";
    for (const key of ["Action", "NotAction"]) {
      if (!(key in node)) continue;
      if (key === "NotAction") problems.push(`${trail.join("/")}: NotAction grants everything else`);
      for (const a of asList(node[key])) {
        if (typeof a !== "string") continue;
        if (a.includes("*") && !inKeyPolicy) problems.push(`${trail.join("/")}: wildcard action ${a}`);
        if (/scan/i.test(a)) problems.push(`${trail.join("/")}: ${a}`);
      }
    }
  }
  return problems;
}

function functionProblems(t) {
  const problems = [];
  const g = t.Globals?.Function ?? {};
  for (const [name, expected] of Object.entries(FUNCTIONS)) {
    const fn = R(t)[name];
    const p = { ...g, ...fn.Properties };
    const env = { ...(g.Environment?.Variables ?? {}), ...(fn.Properties.Environment?.Variables ?? {}) };
    if (fn.Type !== "AWS::Serverless::Function") problems.push(`${name}: type ${fn.Type}`);
    if (p.Handler !== expected.handler) problems.push(`${name}: Handler ${p.Handler}`);
    if (p.Runtime !== "provided.al2023") problems.push(`${name}: Runtime ${p.Runtime}`);
    if (JSON.stringify(p.Architectures) !== JSON.stringify([{ Ref: "Architecture" }])) problems.push(`${name}: Architectures`);
    if (p.Tracing !== "Active") problems.push(`${name}: Tracing ${p.Tracing}`);
    if (fn.Metadata?.BuildMethod !== "makefile") problems.push(`${name}: BuildMethod`);
    if (env.CRUD_STORE !== "dynamodb") problems.push(`${name}: CRUD_STORE`);
    if (JSON.stringify(env.TABLE_NAME) !== JSON.stringify(TABLE_NAME)) problems.push(`${name}: TABLE_NAME`);
    if (JSON.stringify(env.DELETE_MODE) !== JSON.stringify({ Ref: "DeleteMode" })) problems.push(`${name}: DELETE_MODE`);
    for (const v of ["LOG_LEVEL", "POWERTOOLS_SERVICE_NAME"]) if (!env[v]) problems.push(`${name}: ${v}`);
    if (env.POWERTOOLS_METRICS_NAMESPACE !== "ServerlessCrudApi") problems.push(`${name}: POWERTOOLS_METRICS_NAMESPACE`);
    if (fn.Properties.Events) problems.push(`${name}: Api events would make SAM edit the included definition`);
  }
  const arch = t.Parameters.Architecture;
  if (arch?.Default !== "arm64" || JSON.stringify([...arch.AllowedValues].sort()) !== '["arm64","x86_64"]') {
    problems.push("Architecture parameter: default arm64, allowed arm64 and x86_64");
  }
  if (Number(t.Parameters.MemorySize?.Default) !== 128) problems.push("MemorySize default 128");
  return problems;
}

// CONTRACT §4, read from the contract itself: the key attributes, their type, the TTL attribute.
function contractLayout() {
  const contract = readFileSync(projectPath("..", "shared", "CONTRACT.md"), "utf8");
  const section = contract.slice(contract.indexOf("## 4."));
  const keys = section.match(/partition key `(\w+)` \((\w)\) and sort key `(\w+)` \((\w)\)/);
  const ttl = section.match(/TTL attribute: `(\w+)`/);
  assert.ok(keys && ttl, "CONTRACT §4 no longer states the key schema and TTL attribute");
  return { pk: keys[1], pkType: keys[2], sk: keys[3], skType: keys[4], ttl: ttl[1] };
}

function tableProblems(t) {
  const c = contractLayout();
  const table = R(t).ItemsTable;
  const p = table?.Properties ?? {};
  const problems = [];
  if (table?.Type !== "AWS::DynamoDB::GlobalTable") problems.push("ItemsTable type");
  const keySchema = JSON.stringify(p.KeySchema);
  if (keySchema !== JSON.stringify([{ AttributeName: c.pk, KeyType: "HASH" }, { AttributeName: c.sk, KeyType: "RANGE" }])) {
    problems.push(`KeySchema ${keySchema}`);
  }
  const attrs = Object.fromEntries((p.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  if (JSON.stringify(attrs) !== JSON.stringify({ [c.pk]: c.pkType, [c.sk]: c.skType })) problems.push(`AttributeDefinitions ${JSON.stringify(attrs)}`);
  if (p.BillingMode !== "PAY_PER_REQUEST") problems.push("BillingMode");
  if (p.TimeToLiveSpecification?.AttributeName !== c.ttl || p.TimeToLiveSpecification?.Enabled !== true) problems.push("TTL");
  // A global table sets PITR per replica: every one of them, this Region's first.
  const replicas = (p.Replicas ?? []).map((x) => x?.["Fn::If"]?.[1] ?? x);
  if (JSON.stringify(replicas[0]?.Region) !== JSON.stringify({ Ref: "AWS::Region" })) problems.push("this Region's replica");
  if (replicas.length === 0 || replicas.some((x) => x.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled !== true)) {
    problems.push("point-in-time recovery");
  }
  if (p.SSESpecification?.SSEEnabled !== true) problems.push("SSE");
  if (table?.DeletionPolicy !== "Retain" || table?.UpdateReplacePolicy !== "Retain") problems.push("the table must be retained");
  if (p.GlobalSecondaryIndexes || p.LocalSecondaryIndexes) problems.push("indexes the functions' policies do not cover");
  return problems;
}

const ALARM_ACTIONS = JSON.stringify({ "Fn::If": ["HasAlarmEmail", [{ Ref: "AlarmTopic" }], { Ref: "AWS::NoValue" }] });

function alarmProblems(t) {
  const problems = [];
  const alarms = Object.entries(R(t)).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
  const has = (pred, what) => {
    if (!alarms.some(([, a]) => pred(a.Properties))) problems.push(`no alarm on ${what}`);
  };
  has((p) => p.Namespace === "AWS/ApiGateway" && p.MetricName === "5XXError" && p.Statistic === "Average", "the API's 5XX rate");
  has((p) => p.Namespace === "AWS/ApiGateway" && p.MetricName === "Latency" && p.ExtendedStatistic === "p99", "the API's p99 latency");
  for (const fn of Object.keys(FUNCTIONS)) {
    for (const metric of ["Errors", "Throttles"]) {
      has((p) => p.Namespace === "AWS/Lambda" && p.MetricName === metric &&
        JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: "FunctionName", Value: { Ref: fn } }]), `${fn} ${metric}`);
    }
  }
  const dynamo = (metric) => (p) => (p.Metrics ?? []).some((m) => m.MetricStat?.Metric?.Namespace === "AWS/DynamoDB" && m.MetricStat.Metric.MetricName === metric);
  has(dynamo("ThrottledRequests"), "DynamoDB throttled requests");
  has(dynamo("SystemErrors"), "DynamoDB system errors");
  for (const [name, a] of alarms) {
    if (JSON.stringify(a.Properties.AlarmActions) !== ALARM_ACTIONS) problems.push(`${name}: AlarmActions must notify AlarmTopic when there is one`);
  }
  const topic = R(t).AlarmTopic;
  if (topic?.Type !== "AWS::SNS::Topic" || topic.Condition !== "HasAlarmEmail") problems.push("AlarmTopic must exist only with HasAlarmEmail");
  if (JSON.stringify(t.Conditions.HasAlarmEmail) !== JSON.stringify({ "Fn::Not": [{ "Fn::Equals": [{ Ref: "AlarmEmail" }, ""] }] })) {
    problems.push("HasAlarmEmail must test the AlarmEmail parameter");
  }
  return problems;
}

function apiProblems(t) {
  const problems = [];
  const api = R(t).Api;
  const p = api?.Properties ?? {};
  if (api?.Type !== "AWS::Serverless::Api") problems.push("Api type");
  if (p.TracingEnabled !== true) problems.push("TracingEnabled");
  const ms = (p.MethodSettings ?? []).find((m) => m.ResourcePath === "/*" && m.HttpMethod === "*");
  if (JSON.stringify(ms?.ThrottlingRateLimit) !== JSON.stringify({ Ref: "ThrottlingRateLimit" }) ||
      JSON.stringify(ms?.ThrottlingBurstLimit) !== JSON.stringify({ Ref: "ThrottlingBurstLimit" })) {
    problems.push("stage throttling must come from the parameters");
  }
  // The destination may be wrapped (template.yaml orders the stage after the account's logs
  // role through it): every attribute it reads must be its log group's ARN.
  const dests = [...walk(p.AccessLogSetting?.DestinationArn)].filter(([n]) => n?.["Fn::GetAtt"]).map(([n]) => n["Fn::GetAtt"]);
  const dest = dests.length && dests.every((d) => JSON.stringify(d) === JSON.stringify(dests[0])) ? dests[0] : null;
  const group = dest && R(t)[dest[0]];
  if (!group || group.Type !== "AWS::Logs::LogGroup" || dest[1] !== "Arn") problems.push("access logs must go to their own log group");
  else if (JSON.stringify(group.Properties.RetentionInDays) !== JSON.stringify({ Ref: "LogRetentionDays" })) problems.push("access log retention");
  try {
    // messageString is the error text already quoted, so it stands unquoted in the format.
    const format = JSON.parse(p.AccessLogSetting.Format.replaceAll("$context.error.messageString", '"x"'));
    for (const f of ["requestId", "status", "responseLatency", "httpMethod", "path"]) {
      if (!(f in format)) problems.push(`access log format lacks ${f}`);
    }
  } catch {
    problems.push("access log format is not JSON");
  }
  if (p.Auth || p.Cors) problems.push("Auth/Cors need SAM to edit the definition, which it cannot with AWS::Include");
  return problems;
}

function parameterProblems(t) {
  const problems = [];
  const params = t.Parameters;
  for (const name of ["Stage", "Architecture", "MemorySize", "LogRetentionDays", "ThrottlingRateLimit",
                      "ThrottlingBurstLimit", "DeleteMode", "AlarmEmail", "AuthType", "CognitoUserPoolArn"]) {
    if (!params[name]) problems.push(`parameter ${name} missing`);
  }
  if (JSON.stringify(params.AuthType?.AllowedValues) !== '["NONE","IAM","COGNITO"]') problems.push("AuthType values");
  if (params.AlarmEmail?.Default !== "") problems.push("AlarmEmail must be optional");
  if (R(t).UserPool?.Condition !== "CreateUserPool") problems.push("UserPool must exist only for COGNITO without a pool ARN");
  if (JSON.stringify(t.Conditions.CreateUserPool) !== JSON.stringify({ "Fn::And": [{ Condition: "AuthIsCognito" }, { "Fn::Equals": [{ Ref: "CognitoUserPoolArn" }, ""] }] })) {
    problems.push("CreateUserPool condition");
  }
  for (const out of ["ApiUrl", "TableName"]) if (!t.Outputs?.[out]) problems.push(`output ${out} missing`);
  return problems;
}

function dashboardProblems(t) {
  const d = R(t).Dashboard;
  const sub = d?.Properties?.DashboardBody?.["Fn::Sub"];
  const body = Array.isArray(sub) ? sub[0] : sub;
  if (typeof body !== "string") return ["no dashboard"];
  let parsed;
  try {
    parsed = JSON.parse(body.replace(/\$\{[^}]+\}/g, "x"));
  } catch (e) {
    return [`dashboard body is not JSON: ${e.message}`];
  }
  const metrics = JSON.stringify(parsed.widgets.map((w) => w.properties.metrics ?? []));
  const problems = [];
  for (const m of ["Latency", "ColdStart", "Errors", "ItemsCreated", "ItemsUpdated", "ItemsDeleted",
                   "ConcurrentExecutions", "Count", "4XXError", "5XXError"]) {
    if (!metrics.includes(`"${m}"`)) problems.push(`dashboard lacks ${m}`);
  }
  if (!metrics.includes('"ServerlessCrudApi"') || !metrics.includes('"service"') || !metrics.includes('"operation"')) {
    problems.push("dashboard must read the EMF metrics (ServerlessCrudApi, service, operation)");
  }
  return problems;
}

const CHECKS = [
  ["least privilege per function", leastPrivilegeProblems, (t) => { R(t).UpdateFunction.Properties.Policies[0].Statement[0].Action.push("dynamodb:Query"); }],
  ["least privilege: resources", leastPrivilegeProblems, (t) => { R(t).DeleteFunction.Properties.Policies[0].Statement[0].Resource = "*"; }],
  ["least privilege: managed policies", leastPrivilegeProblems, (t) => { R(t).ReadFunction.Properties.Policies.push("AmazonDynamoDBFullAccess"); }],
  ["read's PutItem stays on META", leastPrivilegeProblems, (t) => { delete R(t).ReadFunction.Properties.Policies[0].Statement[1].Condition; }],
  ["no Scan, no wildcard actions", forbiddenActionProblems, (t) => { R(t).CreateFunction.Properties.Policies[0].Statement[0].Action.push("dynamodb:*"); }],
  ["no Scan anywhere", forbiddenActionProblems, (t) => { R(t).ReadFunction.Properties.Policies[0].Statement[0].Action.push("dynamodb:Scan"); }],
  ["no wildcard actions outside key policies", forbiddenActionProblems, (t) => { R(t).ApiGatewayLogsRoleSetterRole.Properties.Policies[0].PolicyDocument.Statement[0].Action.push("apigateway:*"); }],
  ["handlers, runtime, architectures, tracing, environment", functionProblems, (t) => { R(t).DeleteFunction.Properties.Handler = "all"; }],
  ["runtime", functionProblems, (t) => { t.Globals.Function.Runtime = "provided.al2"; }],
  ["table per CONTRACT §4", tableProblems, (t) => { R(t).ItemsTable.Properties.TimeToLiveSpecification.AttributeName = "ttl"; }],
  ["table retained", tableProblems, (t) => { delete R(t).ItemsTable.DeletionPolicy; }],
  ["alarms", alarmProblems, (t) => { delete R(t).ReadFunctionThrottlesAlarm; }],
  ["alarm actions", alarmProblems, (t) => { delete R(t).Api5xxRateAlarm.Properties.AlarmActions; }],
  ["tracing, throttling, access logs", apiProblems, (t) => { R(t).Api.Properties.TracingEnabled = false; }],
  ["throttling", apiProblems, (t) => { delete R(t).Api.Properties.MethodSettings; }],
  ["access logs to their own group", apiProblems, (t) => { R(t).Api.Properties.AccessLogSetting.DestinationArn["Fn::If"][2] = { "Fn::GetAtt": ["CreateFunctionLogGroup", "Arn"] }; }],
  ["parameters and outputs", parameterProblems, (t) => { t.Parameters.AuthType.AllowedValues = ["NONE", "IAM"]; }],
  ["dashboard", dashboardProblems, (t) => { R(t).Dashboard.Properties.DashboardBody["Fn::Sub"][0] = R(t).Dashboard.Properties.DashboardBody["Fn::Sub"][0].replaceAll("ColdStart", "Cold"); }],
];

for (const [name, check, mutate] of CHECKS) {
  test(`${name}: template.yaml passes`, () => {
    assert.deepEqual(check(template), []);
  });
  test(`${name}: a mutated copy fails`, () => {
    const mutated = clone(template);
    mutate(mutated);
    assert.notDeepEqual(check(mutated), []);
  });
}
