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

TABLE_ARN = {"Fn::GetAtt": ["ItemsTable", "Arn"]}

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
def least_privilege_problems(out):
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
                if as_list(s.get("Resource")) != [TABLE_ARN]:
                    problems.append(f"{name}: {s.get('Sid')} reaches {s.get('Resource')}, not just the table")
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
            fn = re.search(r"functions/\$\{(\w+)\.Arn\}", integration["uri"]["Fn::Sub"]).group(1)
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
        sub = p.get("SourceArn", {}).get("Fn::Sub", "")
        prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/"
        if p.get("Principal") != "apigateway.amazonaws.com" or p.get("Action") != "lambda:InvokeFunction" \
                or not sub.startswith(prefix):
            problems.append(f"{name}: not API Gateway invoking from this API only: {p}")
            continue
        perms.setdefault(fn, []).append(sub[len(prefix):])
    for fn, routes in integrated_routes(body).items():
        for verb, path in routes:
            concrete = "dev/" + verb + re.sub(r"\{[^}]+\}", "item_x", path)
            if not any(fnmatch.fnmatchcase(concrete, pattern) for pattern in perms.get(fn, [])):
                problems.append(f"{verb} {path}: {fn} may not be invoked for it ({perms.get(fn)})")
    for fn in perms:
        if fn not in FUNCTIONS:
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


class Translated(unittest.TestCase):
    def assertCatches(self, problems, *fragments):
        self.assertTrue(problems, "the check did not notice the broken copy")
        for fragment in fragments:
            self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems}")

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
