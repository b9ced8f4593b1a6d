"""What a stack actually gets: template.yaml, with openapi.yaml included as `sam deploy` and
CloudFormation include it, translated by AWS's SAM translator and resolved for given parameter
values. Each checker returns its problems; each test also feeds it a deliberately broken copy
and asserts the problem is reported, so a checker that can no longer fail is noticed.
"""

import copy
import fnmatch
import json
import re
import sys
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

# The table in the function's own Region only: this stack's table, or (ExistingTableName) the
# replica here of the global table another Region's stack owns.
TABLE_ARN_FORMAT = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}"


def table_arn(table=None):
    return {"Fn::Sub": [TABLE_ARN_FORMAT, {"Table": table or {"Ref": "ItemsTable"}}]}


TABLE_ARN = table_arn()
OTHER_TABLE = "crud-api-ItemsTable-ABC123"
# The deployments README "Multi-region" describes: the table's home Region with two replicas and
# every optional feature on, and another Region's stack on that table.
ALL_ON = {"ReplicaRegions": "eu-west-1,ap-southeast-2", "CreateProvisionedConcurrency": "1",
          "ReadProvisionedConcurrency": "3", "UpdateProvisionedConcurrency": "1",
          "DeleteProvisionedConcurrency": "2", "ApiCacheSize": "0.5", "ApiCacheTtlSeconds": "30",
          "DomainName": "api.example.com", "HostedZoneId": "Z0123456789ABC",
          "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
          "AlarmEmail": "ops@example.com", "AuthType": "COGNITO"}
OTHER_REGION = {"ExistingTableName": OTHER_TABLE, "DomainName": "api.example.com",
                "HostedZoneId": "Z0123456789ABC",
                "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/def"}


def function_of(ref):
    """The function behind a Ref: the function itself or its `live` alias."""
    return ref[:-len("Aliaslive")] if ref.endswith("Aliaslive") else ref

# CONTRACT §1 (Handler names) and the DynamoDB calls of each function's operations
# (template.yaml's comment above the functions says which call needs which action).
FUNCTIONS = {
    "CreateFunction": {"handler": "create", "actions": {"PutItem", "GetItem", "UpdateItem", "DeleteItem"}},
    "ReadFunction": {"handler": "read", "actions": {"GetItem", "Query"}, "meta_only": {"PutItem"}},
    "UpdateFunction": {"handler": "update", "actions": {"GetItem", "PutItem"}},
    "DeleteFunction": {"handler": "delete", "actions": {"GetItem", "DeleteItem", "PutItem"}},
}
# What SAM attaches to every function with Tracing: Active: logs, and X-Ray's write-only policy.
MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
           "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}


def as_list(v):
    return v if isinstance(v, list) else [v]


def resources(out, type_):
    return {k: v for k, v in out["Resources"].items() if v["Type"] == type_}


# ------------------------------------------------------------------------- least privilege
def least_privilege_problems(out, table=TABLE_ARN):
    problems = []
    lambdas = resources(out, "AWS::Lambda::Function")
    for name, want in FUNCTIONS.items():
        fn = lambdas.get(name)
        if not fn:
            problems.append(f"{name}: no AWS::Lambda::Function")
            continue
        p = fn["Properties"]
        if p.get("Handler") != want["handler"]:
            problems.append(f"{name}: Handler {p.get('Handler')}")
        role_name = p["Role"]["Fn::GetAtt"][0]
        role = out["Resources"][role_name]["Properties"]
        if set(role.get("ManagedPolicyArns", [])) != MANAGED:
            problems.append(f"{name}: managed policies {role.get('ManagedPolicyArns')}")
        plain, meta = set(), set()
        for policy in role.get("Policies", []):
            for s in as_list(policy["PolicyDocument"]["Statement"]):
                if s.get("Effect") != "Allow":
                    continue
                if "NotAction" in s or "NotResource" in s:
                    problems.append(f"{name}: NotAction/NotResource")
                if as_list(s.get("Resource")) != [table]:
                    problems.append(f"{name}: {s.get('Sid')} reaches {s.get('Resource')}, not just the table here")
                actions = set()
                for a in as_list(s["Action"]):
                    if not a.startswith("dynamodb:") or "*" in a:
                        problems.append(f"{name}: action {a}")
                    actions.add(a.split(":", 1)[1])
                keys = (s.get("Condition") or {}).get("ForAllValues:StringEquals", {}).get("dynamodb:LeadingKeys")
                (meta if keys == ["META"] else plain).update(actions)
        if plain != want["actions"] or meta != want.get("meta_only", set()):
            problems.append(f"{name}: actions {sorted(plain)} + META-only {sorted(meta)}, "
                            f"expected {sorted(want['actions'])} + {sorted(want.get('meta_only', set()))}")
    for name, fn in lambdas.items():
        if name not in FUNCTIONS and "dynamodb" in json.dumps(out["Resources"].get(
                fn["Properties"]["Role"]["Fn::GetAtt"][0], {})):
            problems.append(f"{name}: not an API function, yet reaches DynamoDB")
    return problems


# ----------------------------------------------------------------- who may invoke which function
def integrated_routes(body):
    """{function: [(METHOD, path)]} from the definition's Lambda integrations."""
    routes = {}
    for path, item in body["paths"].items():
        for method, op in item.items():
            integration = op.get("x-amazon-apigateway-integration") if isinstance(op, dict) else None
            if not integration or integration.get("type") != "aws_proxy":
                continue
            fn = re.search(r"functions/\$\{(\w+)\}/", integration["uri"]["Fn::Sub"]).group(1)
            verb = "*" if method == "x-amazon-apigateway-any-method" else method.upper()
            routes.setdefault(fn, []).append((verb, path))
    return routes


def permission_problems(out):
    problems = []
    body = out["Resources"]["Api"]["Properties"]["Body"]
    perms = {}
    for name, perm in resources(out, "AWS::Lambda::Permission").items():
        p = perm["Properties"]
        fn = p["FunctionName"].get("Ref")
        if fn not in out["Resources"] or out["Resources"][fn]["Type"] != "AWS::Lambda::Alias":
            problems.append(f"{name}: lets API Gateway invoke {fn}, not a function's live alias")
        sub = p.get("SourceArn", {}).get("Fn::Sub", "")
        prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/"
        if p.get("Principal") != "apigateway.amazonaws.com" or p.get("Action") != "lambda:InvokeFunction" \
                or not sub.startswith(prefix):
            problems.append(f"{name}: not API Gateway invoking from this API only: {p}")
            continue
        perms.setdefault(fn, []).append(sub[len(prefix):])
    for fn, routes in integrated_routes(body).items():
        if out["Resources"].get(fn, {}).get("Type") != "AWS::Lambda::Alias":
            problems.append(f"{routes[0][0]} {routes[0][1]}: API Gateway calls {fn}, not a live alias")
        for verb, path in routes:
            concrete = "dev/" + verb + re.sub(r"\{[^}]+\}", "item_x", path)
            if not any(fnmatch.fnmatchcase(concrete, pattern) for pattern in perms.get(fn, [])):
                problems.append(f"{verb} {path}: {fn} may not be invoked for it ({perms.get(fn)})")
    for fn in perms:
        if function_of(fn) not in FUNCTIONS:
            problems.append(f"{fn}: invocable by API Gateway but not an API function")
    return problems


# --------------------------------------------------------------------------- redeployment
def deployment_of(out):
    stage = resources(out, "AWS::ApiGateway::Stage")
    (stage,) = stage.values()
    return stage["Properties"]["DeploymentId"]["Ref"]


def translated_at(tmpl, overrides, epoch):
    with mock.patch("samtranslator.model.apigateway.time.time", return_value=epoch):
        return cfn.translate(tmpl, overrides)


def redeploy_problems(tmpl):
    """Two deploys a minute apart, the second changing a parameter the definition reads, must
    give the stage a new Deployment: API Gateway serves a stage's deployment, not its RestApi."""
    problems = []
    packaged = cfn.packaged(tmpl)
    base = {"AuthType": "IAM", "CorsAllowOrigin": "", "CognitoUserPoolArn": ""}
    changes = {"AuthType": "NONE", "CorsAllowOrigin": "https://app.example.com",
               "CognitoUserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"}
    first = translated_at(packaged, base, 1_767_225_600)
    for name, value in changes.items():
        second = translated_at(packaged, {**base, name: value}, 1_767_225_660)
        if deployment_of(first) == deployment_of(second):
            problems.append(f"{name} changed, but the stage keeps deployment {deployment_of(first)}")
        if deployment_of(second) not in second["Resources"]:
            problems.append("the stage points at a deployment that does not exist")
    return problems


# ---------------------------------------------------------------------------------- auth
def security_problems(out, auth):
    problems = []
    body = out["Resources"]["Api"]["Properties"]["Body"]
    required = []
    for node, trail in cfn.walk(body):
        if isinstance(node, dict) and "security" in node and trail[:1] != ("components",):
            for requirement in node["security"] or []:
                if requirement:
                    required.append(("/".join(map(str, trail)) or "(root)", requirement))
    schemes = body.get("components", {}).get("securitySchemes", {})
    if auth == "NONE":
        for where, requirement in required:
            problems.append(f"NONE, yet {where} requires {requirement}")
    else:
        if body.get("security") != [{"apiAuth": []}]:
            problems.append(f"{auth}: the root security is {body.get('security')}")
        authtype = schemes.get("apiAuth", {}).get("x-amazon-apigateway-authtype")
        want = {"IAM": "awsSigv4", "COGNITO": "cognito_user_pools"}[auth]
        if authtype != want:
            problems.append(f"{auth}: apiAuth's authtype is {authtype}, not {want}")
        if auth == "COGNITO" and "x-amazon-apigateway-authorizer" not in schemes.get("apiAuth", {}):
            problems.append("COGNITO: no authorizer")
    return problems


# -------------------------------------------------------------------------------- alarms
def alarm_topic_problems(out):
    problems = []
    topics = resources(out, "AWS::SNS::Topic")
    if list(topics) != ["AlarmTopic"]:
        return [f"topics {list(topics)}"]
    key_ref = topics["AlarmTopic"]["Properties"].get("KmsMasterKeyId")
    if not isinstance(key_ref, dict) or "Ref" not in key_ref:
        return [f"AlarmTopic is encrypted with {key_ref}, not a key of the stack's own"]
    key = out["Resources"].get(key_ref["Ref"], {})
    if key.get("Type") != "AWS::KMS::Key":
        return [f"{key_ref['Ref']} is not a KMS key"]
    if key["Properties"].get("EnableKeyRotation") is not True:
        problems.append("the topic key does not rotate")
    granted = set()
    for s in key["Properties"]["KeyPolicy"]["Statement"]:
        if s.get("Effect") == "Allow" and s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com":
            granted.update(as_list(s["Action"]))
    for action in ("kms:Decrypt", "kms:GenerateDataKey*"):
        if action not in granted:
            problems.append(f"CloudWatch may not {action} with the topic's key")
    return problems


# ------------------------------------------------------------------------------ logs role
def logs_role_problems(out, mode):
    problems = []
    r = out["Resources"]
    setter = {"true": "ApiGatewayAccount", "if-missing": "ApiGatewayLogsRoleIfMissing"}.get(mode)
    for name in ("ApiGatewayAccount", "ApiGatewayLogsRoleIfMissing"):
        if (name in r) != (name == setter):
            problems.append(f"{mode}: {name} {'exists' if name in r else 'is missing'}")
    if setter and setter in r:
        (stage,) = resources(out, "AWS::ApiGateway::Stage").values()
        refs = {n.get("Ref") for n, _ in cfn.walk(stage) if isinstance(n, dict)}
        if setter not in refs and setter not in as_list(stage.get("DependsOn", [])):
            problems.append(f"{mode}: the stage may be created before {setter} gives the account its role")
    for name, res in r.items():
        for dep in as_list(res.get("DependsOn", [])):
            if dep not in r:
                problems.append(f"{name} depends on {dep}, which does not exist under {mode}")
    return problems


# -------------------------------------------------------------------- JSON whatever the text
HOSTILE = 'a"b\'c\\d</x>\n'


def render(template_text, path=HOSTILE):
    """A mapping or access-log template as API Gateway fills it in for a hostile path and error
    text: $util.escapeJavaScript escapes as JavaScript does (including ' as \\'), messageString
    is the quoted string, any other variable a plain token."""
    escaped = json.dumps(path)[1:-1].replace("'", "\\'")
    text = template_text.replace("$util.escapeJavaScript($context.path).replaceAll(\"\\\\'\",\"'\")",
                                 escaped.replace("\\'", "'"))
    text = text.replace("$util.escapeJavaScript($context.path)", escaped)
    text = text.replace("$context.error.messageString", json.dumps(HOSTILE))
    text = text.replace("$context.path", path).replace("$context.error.message", HOSTILE)
    return re.sub(r"\$context\.[\w.]+", "token", text)


def json_templates_problems(out):
    problems = []
    (stage,) = resources(out, "AWS::ApiGateway::Stage").values()
    # An access-log format cannot escape anything; only the error text, free text, comes quoted.
    # The path stays a plain token there: HTTP sends a quote in a path percent-encoded.
    texts = [("access log", render(stage["Properties"]["AccessLogSetting"]["Format"], path="/items"))]
    body = out["Resources"]["Api"]["Properties"]["Body"]
    for node, trail in cfn.walk(body):
        if isinstance(node, dict) and isinstance(node.get("responseTemplates"), dict):
            texts.append(("/".join(map(str, trail)), render(node["responseTemplates"].get("application/json", ""))))
    for where, text in texts:
        try:
            json.loads(text)
        except ValueError as e:
            problems.append(f"{where}: not JSON for a path or error text like {HOSTILE!r}: {e}")
    root = body["paths"].get("/", {}).get("x-amazon-apigateway-any-method", {})
    integration = root.get("x-amazon-apigateway-integration", {})
    if integration.get("type") != "mock" or integration.get("responses", {}).get("default", {}).get("statusCode") != "404" \
            or root.get("security") != []:
        problems.append("GET / is not answered with the contract's 404")
    return problems


def retained_problems(out):
    problems = []
    for name in ("ItemsTable", "UserPool"):
        res = out["Resources"].get(name)
        if not res:
            problems.append(f"{name} missing")
        elif res.get("DeletionPolicy") != "Retain" or res.get("UpdateReplacePolicy") != "Retain":
            problems.append(f"{name} is not retained on delete and replacement")
    return problems


# --------------------------------------------------------------------------- global table
REPLICA_PITR = {"PointInTimeRecoveryEnabled": True}


def table_problems(out, regions, existing=None):
    """`regions`: the replicas expected besides this stack's Region. `existing`: the name of the
    table another Region's stack owns, when this stack creates none."""
    problems = []
    r = out["Resources"]
    tables = {k: v for k, v in r.items() if v["Type"].startswith("AWS::DynamoDB::")}
    env_name = r["ReadFunction"]["Properties"]["Environment"]["Variables"]["TABLE_NAME"]
    if existing:
        if tables:
            problems.append(f"ExistingTableName set, yet the stack declares {list(tables)}")
        if env_name != existing:
            problems.append(f"TABLE_NAME is {env_name}, not {existing}")
        for name, alarm in resources(out, "AWS::CloudWatch::Alarm").items():
            for node, _ in cfn.walk(alarm):
                if isinstance(node, dict) and node.get("Name") == "TableName" and node.get("Value") != existing:
                    problems.append(f"{name}: watches table {node.get('Value')}")
        return problems
    if list(tables) != ["ItemsTable"] or tables["ItemsTable"]["Type"] != "AWS::DynamoDB::GlobalTable":
        return problems + [f"tables {[(k, v['Type']) for k, v in tables.items()]}, not one GlobalTable"]
    table = tables["ItemsTable"]
    p = table["Properties"]
    if table.get("DeletionPolicy") != "Retain" or table.get("UpdateReplacePolicy") != "Retain":
        problems.append("the table is not retained")
    if env_name != {"Ref": "ItemsTable"}:
        problems.append(f"TABLE_NAME is {env_name}")
    if p.get("KeySchema") != [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}] \
            or p.get("AttributeDefinitions") != [{"AttributeName": "pk", "AttributeType": "S"},
                                                {"AttributeName": "sk", "AttributeType": "S"}]:
        problems.append("keys are not CONTRACT §4's pk/sk strings")
    if p.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append("not on demand")
    if p.get("TimeToLiveSpecification") != {"AttributeName": "expiresAt", "Enabled": True}:
        problems.append("TTL is not on expiresAt")
    if p.get("SSESpecification") != {"SSEEnabled": True, "SSEType": "KMS"}:
        problems.append("no KMS encryption")
    replicas = p.get("Replicas", [])
    got = [x.get("Region") for x in replicas]
    if got != [{"Ref": "AWS::Region"}] + list(regions):
        problems.append(f"replicas in {got}, expected this Region and {regions}")
    for x in replicas:
        if x.get("PointInTimeRecoverySpecification") != REPLICA_PITR:
            problems.append(f"replica {x.get('Region')} has no PITR")
    stream = p.get("StreamSpecification")
    if regions and stream != {"StreamViewType": "NEW_AND_OLD_IMAGES"}:
        problems.append("replicas without the stream replication needs")
    if not regions and stream is not None:
        problems.append("one Region, yet a stream (an imported plain table has none)")
    return problems


# ---------------------------------------------------------------------------- API cache
def cache_problems(out, size=None, ttl=None):
    problems = []
    (stage,) = resources(out, "AWS::ApiGateway::Stage").values()
    p = stage["Properties"]
    if bool(p.get("CacheClusterEnabled")) != (size is not None) or p.get("CacheClusterSize") != size:
        problems.append(f"cache cluster {p.get('CacheClusterEnabled')} {p.get('CacheClusterSize')}, expected {size}")
    cached = []
    for m in p.get("MethodSettings", []):
        if m.get("CachingEnabled"):
            cached.append((m["HttpMethod"], m["ResourcePath"]))
            if str(m.get("CacheTtlInSeconds")) != str(ttl) or m.get("CacheDataEncrypted") is not True:
                problems.append(f"{m['ResourcePath']}: TTL {m.get('CacheTtlInSeconds')}, encrypted {m.get('CacheDataEncrypted')}")
        elif m["ResourcePath"] == "/*" and m.get("CachingEnabled") is not False:
            problems.append("caching is not off explicitly for every other method (API Gateway caches GETs by default)")
    if cached != ([("GET", "/~1items~1{id}")] if size else []):
        problems.append(f"cached methods {cached}")
    body = out["Resources"]["Api"]["Properties"]["Body"]
    for path, item in body["paths"].items():
        for method, op in item.items():
            keys = (op.get("x-amazon-apigateway-integration") or {}).get("cacheKeyParameters") if isinstance(op, dict) else None
            if (path, method) == ("/items/{id}", "get"):
                for key in ("method.request.path.id", "method.request.header.Authorization",
                            "method.request.header.If-None-Match"):
                    if key not in (keys or []):
                        problems.append(f"GET /items/{{id}}: the cache key lacks {key}")
                params = [body["components"]["parameters"][x["$ref"].rsplit("/", 1)[1]] if "$ref" in x else x
                          for x in op.get("parameters", []) + item.get("parameters", [])]
                declared = {(x.get("in"), x.get("name")) for x in params}
                for key in keys or []:
                    _, _, where, name = key.split(".", 3)
                    if (where if where != "querystring" else "query", name) not in declared:
                        problems.append(f"GET /items/{{id}}: cache key {key} is not a declared parameter")
            elif keys:
                problems.append(f"{method.upper()} {path} has cache keys {keys}")
    return problems


# ------------------------------------------------------------------ provisioned concurrency
def concurrency_problems(out, wanted):
    """`wanted`: {function: provisioned concurrency}, 0 for none."""
    problems = []
    r = out["Resources"]
    alarms = resources(out, "AWS::CloudWatch::Alarm")
    for fn, n in wanted.items():
        alias = r.get(fn + "Aliaslive")
        if not alias or alias["Type"] != "AWS::Lambda::Alias" or alias["Properties"]["FunctionName"] != {"Ref": fn}:
            problems.append(f"{fn}: no live alias")
            continue
        config = alias["Properties"].get("ProvisionedConcurrencyConfig")
        if (str(config["ProvisionedConcurrentExecutions"]) if config else "0") != str(n):
            problems.append(f"{fn}: provisioned concurrency {config}, expected {n}")
        spill = [a for a in alarms.values() if a["Properties"].get("MetricName") == "ProvisionedConcurrencySpilloverInvocations"
                 and {"Name": "FunctionName", "Value": {"Ref": fn}} in a["Properties"]["Dimensions"]]
        if bool(spill) != bool(int(n)):
            problems.append(f"{fn}: {len(spill)} spillover alarms with provisioned concurrency {n}")
        for a in spill:
            if {"Name": "Resource", "Value": {"Fn::Sub": "${" + fn + "}:live"}} not in a["Properties"]["Dimensions"]:
                problems.append(f"{fn}: the spillover alarm does not watch the live alias")
        for a in alarms.values():
            if a["Properties"].get("MetricName") in ("Errors", "Throttles") and a["Properties"].get("Namespace") == "AWS/Lambda" \
                    and {"Name": "FunctionName", "Value": {"Ref": fn}} in a["Properties"].get("Dimensions", []) \
                    and len(a["Properties"]["Dimensions"]) != 1:
                problems.append(f"{fn}: an {a['Properties']['MetricName']} alarm on one alias or version only")
    return problems


# ------------------------------------------------------------------------- custom domain
DOMAIN_TYPES = {"AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping", "AWS::Route53::RecordSet"}


def domain_problems(out, domain=None):
    r = out["Resources"]
    present = {k: v for k, v in r.items() if v["Type"] in DOMAIN_TYPES}
    if not domain:
        return [f"no custom domain asked for, yet {list(present)}"] if present else []
    problems = []
    by_type = {v["Type"]: (k, v["Properties"]) for k, v in present.items()}
    if set(by_type) != DOMAIN_TYPES or len(present) != 3:
        return [f"custom domain resources {list(present)}"]
    name, d = by_type["AWS::ApiGateway::DomainName"]
    if d.get("DomainName") != domain or d.get("EndpointConfiguration") != {"Types": ["REGIONAL"]} \
            or "RegionalCertificateArn" not in d or d.get("SecurityPolicy") != "TLS_1_2":
        problems.append(f"domain name {d}")
    _, m = by_type["AWS::ApiGateway::BasePathMapping"]
    (stage_name,) = resources(out, "AWS::ApiGateway::Stage")
    if m.get("DomainName") != {"Ref": name} or m.get("RestApiId") != {"Ref": "Api"} or m.get("Stage") != {"Ref": stage_name}:
        problems.append(f"base path mapping {m}")
    _, rec = by_type["AWS::Route53::RecordSet"]
    alias = rec.get("AliasTarget", {})
    if rec.get("Name") != domain or rec.get("Type") != "A" or rec.get("Region") != {"Ref": "AWS::Region"} \
            or not rec.get("SetIdentifier") or "Weight" in rec or "Failover" in rec \
            or alias.get("DNSName") != {"Fn::GetAtt": [name, "RegionalDomainName"]} \
            or alias.get("HostedZoneId") != {"Fn::GetAtt": [name, "RegionalHostedZoneId"]}:
        problems.append(f"not a latency record aliasing this Region's domain: {rec}")
    return problems


class Translated(unittest.TestCase):
    def assertCatches(self, problems, *fragments):
        self.assertTrue(problems, "the check did not notice the broken copy")
        for fragment in fragments:
            self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems}")

    # ------------------------------------------------------------------- multi-region and ops
    @classmethod
    def setUpClass(cls):
        cls.default = cfn.deployed()
        cls.all_on = cfn.deployed(ALL_ON)
        cls.other_region = cfn.deployed(OTHER_REGION)

    def test_the_table_is_a_global_table_with_its_replicas(self):
        self.assertEqual(table_problems(self.default, []), [])
        self.assertEqual(table_problems(self.all_on, ["eu-west-1", "ap-southeast-2"]), [])
        self.assertEqual(table_problems(self.other_region, [], existing=OTHER_TABLE), [])
        four = "eu-west-1,eu-central-1,ap-southeast-2,sa-east-1"
        self.assertEqual(table_problems(cfn.deployed({"ReplicaRegions": four}), four.split(",")), [])
        broken = cfn.template()
        del broken["Resources"]["ItemsTable"]["Properties"]["Replicas"][2]
        self.assertCatches(table_problems(cfn.deployed(ALL_ON, tmpl=broken), ["eu-west-1", "ap-southeast-2"]), "replicas in")
        broken = cfn.template()
        broken["Resources"]["ItemsTable"]["Properties"]["StreamSpecification"] = {"StreamViewType": "KEYS_ONLY"}
        self.assertCatches(table_problems(cfn.deployed(tmpl=broken), []), "stream")
        broken = cfn.template()
        broken["Resources"]["TableSystemErrorsAlarm"]["Properties"]["Metrics"][1]["MetricStat"]["Metric"]["Dimensions"][0]["Value"] = {"Ref": "ItemsTable"}
        self.assertCatches(table_problems(cfn.deployed(OTHER_REGION, tmpl=broken), [], existing=OTHER_TABLE), "TableSystemErrorsAlarm")

    def test_each_function_reaches_the_table_in_its_own_region_only(self):
        self.assertEqual(least_privilege_problems(self.all_on), [])
        self.assertEqual(least_privilege_problems(self.other_region, table_arn(OTHER_TABLE)), [])
        broken = cfn.template()
        statement = broken["Resources"]["ReadFunction"]["Properties"]["Policies"][0]["Statement"][0]
        statement["Resource"]["Fn::Sub"][0] = statement["Resource"]["Fn::Sub"][0].replace("${AWS::Region}", "*")
        self.assertCatches(least_privilege_problems(cfn.deployed(ALL_ON, tmpl=broken)), "ReadFunction")

    def test_api_gateway_invokes_the_live_aliases_in_every_deployment(self):
        for name, out in (("default", self.default), ("all on", self.all_on), ("other Region", self.other_region)):
            with self.subTest(deployment=name):
                self.assertEqual(permission_problems(out), [])
        broken = cfn.template()
        broken["Resources"]["UpdateFunctionApiPermission"]["Properties"]["FunctionName"] = {"Ref": "UpdateFunction"}
        self.assertCatches(permission_problems(cfn.deployed(tmpl=broken)), "UpdateFunctionApiPermission")

    def test_provisioned_concurrency_keeps_the_alias_warm_and_alarms_on_it(self):
        self.assertEqual(concurrency_problems(self.default, dict.fromkeys(FUNCTIONS, 0)), [])
        want = {"CreateFunction": 1, "ReadFunction": 3, "UpdateFunction": 1, "DeleteFunction": 2}
        self.assertEqual(concurrency_problems(self.all_on, want), [])
        broken = cfn.template()
        broken["Resources"]["ReadFunctionSpilloverAlarm"]["Properties"]["Dimensions"].pop()
        self.assertCatches(concurrency_problems(cfn.deployed(ALL_ON, tmpl=broken), want), "live alias")

    def test_only_get_item_is_cached_and_its_key_includes_the_caller(self):
        self.assertEqual(cache_problems(self.default), [])
        self.assertEqual(cache_problems(self.all_on, size="0.5", ttl="30"), [])
        broken = cfn.template()
        del broken["Resources"]["Api"]["Properties"]["MethodSettings"][0]["CachingEnabled"]
        self.assertCatches(cache_problems(cfn.deployed(ALL_ON, tmpl=broken), size="0.5", ttl="30"), "off explicitly")
        broken = cfn.template()
        broken["Resources"]["Api"]["Properties"]["MethodSettings"][1]["Fn::If"][1]["ResourcePath"] = "/~1items"
        self.assertCatches(cache_problems(cfn.deployed(ALL_ON, tmpl=broken), size="0.5", ttl="30"), "cached methods")
        doc = cfn.openapi()
        doc["paths"]["/items/{id}"]["get"]["x-amazon-apigateway-integration"]["cacheKeyParameters"].remove(
            "method.request.header.Authorization")
        doc["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["cacheKeyParameters"] = ["method.request.querystring.limit"]
        self.assertCatches(cache_problems(cfn.deployed(ALL_ON, doc=doc), size="0.5", ttl="30"),
                           "lacks method.request.header.Authorization", "GET /items has cache keys")

    def test_the_custom_domain_routes_by_latency_to_this_region(self):
        self.assertEqual(domain_problems(self.default), [])
        self.assertEqual(domain_problems(self.all_on, "api.example.com"), [])
        self.assertEqual(domain_problems(self.other_region, "api.example.com"), [])
        broken = cfn.template()
        del broken["Resources"]["CustomDomainLatencyRecord"]["Properties"]["Region"]
        self.assertCatches(domain_problems(cfn.deployed(ALL_ON, tmpl=broken), "api.example.com"), "latency record")

    def test_the_saved_queries_exist_whatever_the_parameters(self):
        for out in (self.default, self.all_on, self.other_region):
            self.assertEqual(len(resources(out, "AWS::Logs::QueryDefinition")), 5)

    def test_each_function_gets_exactly_its_dynamodb_actions(self):
        self.assertEqual(least_privilege_problems(cfn.deployed()), [])
        broken = cfn.template()
        broken["Resources"]["UpdateFunction"]["Properties"]["Policies"][0]["Statement"][0]["Action"].append("dynamodb:Scan")
        self.assertCatches(least_privilege_problems(cfn.deployed(tmpl=broken)), "UpdateFunction")
        broken = cfn.template()
        del broken["Resources"]["ReadFunction"]["Properties"]["Policies"][0]["Statement"][1]["Condition"]
        self.assertCatches(least_privilege_problems(cfn.deployed(tmpl=broken)), "ReadFunction")

    def test_api_gateway_may_invoke_each_function_for_its_routes_only(self):
        self.assertEqual(permission_problems(cfn.deployed()), [])
        broken = cfn.template()
        broken["Resources"]["DeleteFunctionApiPermission"]["Properties"]["SourceArn"]["Fn::Sub"] = \
            broken["Resources"]["DeleteFunctionApiPermission"]["Properties"]["SourceArn"]["Fn::Sub"].replace("/DELETE/", "/GET/")
        self.assertCatches(permission_problems(cfn.deployed(tmpl=broken)), "DELETE /items/{id}")

    def test_a_parameter_the_definition_reads_redeploys_the_stage(self):
        self.assertEqual(redeploy_problems(cfn.template()), [])
        broken = cfn.template()
        del broken["Resources"]["Api"]["Properties"]["AlwaysDeploy"]
        self.assertCatches(redeploy_problems(broken), "AuthType", "CorsAllowOrigin", "CognitoUserPoolArn")

    def test_auth_none_leaves_no_security_requirement(self):
        for auth in ("NONE", "IAM", "COGNITO"):
            with self.subTest(auth=auth):
                self.assertEqual(security_problems(cfn.deployed({"AuthType": auth}), auth), [])
        broken = cfn.openapi()
        broken["security"] = [{"apiAuth": []}]
        self.assertCatches(security_problems(cfn.deployed({"AuthType": "NONE"}, doc=broken), "NONE"), "(root)")

    def test_cloudwatch_can_publish_to_the_alarm_topic(self):
        with_email = {"AlarmEmail": "ops@example.com"}
        self.assertEqual(alarm_topic_problems(cfn.deployed(with_email)), [])
        self.assertEqual(resources(cfn.deployed(), "AWS::KMS::Key"), {})
        broken = cfn.template()
        broken["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
        self.assertCatches(alarm_topic_problems(cfn.deployed(with_email, tmpl=broken)), "alias/aws/sns")
        broken = cfn.template()
        broken["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"].pop()
        self.assertCatches(alarm_topic_problems(cfn.deployed(with_email, tmpl=broken)), "kms:Decrypt")

    def test_the_stage_waits_for_the_accounts_logs_role(self):
        tmpl = cfn.template()
        self.assertEqual(tmpl["Parameters"]["ConfigureApiGatewayLogsRole"]["Default"], "if-missing",
                         "the default must not replace a role the account already has")
        for mode in ("if-missing", "true", "false"):
            with self.subTest(mode=mode):
                out = cfn.deployed({"ConfigureApiGatewayLogsRole": mode})
                self.assertEqual(logs_role_problems(out, mode), [])
        broken = cfn.template()
        broken["Resources"]["Api"]["Properties"]["AccessLogSetting"]["DestinationArn"] = \
            {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
        for mode in ("if-missing", "true"):
            out = cfn.deployed({"ConfigureApiGatewayLogsRole": mode}, tmpl=broken)
            self.assertCatches(logs_role_problems(out, mode), "may be created before")
        broken = cfn.template()
        broken["Resources"]["Api"]["Properties"]["DependsOn"] = "ApiGatewayAccount"
        broken["Resources"]["Api"]["DependsOn"] = broken["Resources"]["Api"]["Properties"].pop("DependsOn")
        self.assertCatches(logs_role_problems(cfn.deployed({"ConfigureApiGatewayLogsRole": "false"}, tmpl=broken), "false"),
                           "depends on ApiGatewayAccount")

    def test_logs_and_gateway_answers_stay_json_whatever_the_text(self):
        self.assertEqual(json_templates_problems(cfn.deployed()), [])
        broken = cfn.template()
        fmt = broken["Resources"]["Api"]["Properties"]["AccessLogSetting"]["Format"]
        broken["Resources"]["Api"]["Properties"]["AccessLogSetting"]["Format"] = \
            fmt.replace("$context.error.messageString", '"$context.error.message"')
        self.assertCatches(json_templates_problems(cfn.deployed(tmpl=broken)), "access log")
        broken = cfn.openapi()
        mock_404 = broken["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        mock_404["responses"]["default"]["responseTemplates"]["application/json"] = \
            '{"statusCode":404,"message":"No route for $context.path","error":{"code":"NOT_FOUND","message":"x"},"requestId":"$context.requestId"}'
        self.assertCatches(json_templates_problems(cfn.deployed(doc=broken)), "{proxy+}")
        broken = cfn.openapi()
        del broken["paths"]["/"]
        self.assertCatches(json_templates_problems(cfn.deployed(doc=broken)), "GET /")

    def test_the_table_and_the_user_pool_outlive_the_stack(self):
        self.assertEqual(retained_problems(cfn.deployed({"AuthType": "COGNITO"})), [])
        broken = cfn.template()
        del broken["Resources"]["UserPool"]["DeletionPolicy"]
        self.assertCatches(retained_problems(cfn.deployed({"AuthType": "COGNITO"}, tmpl=broken)), "UserPool")


if __name__ == "__main__":
    unittest.main(verbosity=2)
