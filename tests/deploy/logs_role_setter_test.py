"""The default ConfigureApiGatewayLogsRole=if-missing: the inline function in template.yaml gives
the account API Gateway's CloudWatch role only when it has none, never replaces one, changes
nothing on delete, and always answers CloudFormation. Run against moto's API Gateway, with
CloudFormation's cfnresponse module replaced by a recorder. The check also runs on a copy of
the code that replaces any role, to show it can fail.
"""

import os
import sys
import types
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

OURS = "arn:aws:iam::123456789012:role/crud-api-ApiGatewayLogsRole"
THEIRS = "arn:aws:iam::123456789012:role/someone-elses-logs-role"


def setter_code(tmpl=None):
    t = tmpl or cfn.template()
    return t["Resources"]["ApiGatewayLogsRoleSetter"]["Properties"]["Code"]["ZipFile"]


def run_handler(code, request_type, role_arn=OURS):
    """Runs the function's handler once; returns the status it reported to CloudFormation."""
    replies = []
    recorder = types.ModuleType("cfnresponse")
    recorder.SUCCESS, recorder.FAILED = "SUCCESS", "FAILED"
    recorder.send = lambda event, context, status, data, physical_id=None, *a, **kw: replies.append(status)
    sys.modules["cfnresponse"] = recorder
    try:
        namespace = {}
        exec(compile(code, "ApiGatewayLogsRoleSetter", "exec"), namespace)  # noqa: S102 (our template's code)
        event = {"RequestType": request_type, "ResourceProperties": {"RoleArn": role_arn},
                 "ResponseURL": "https://example.invalid/", "StackId": "s", "RequestId": "r",
                 "LogicalResourceId": "ApiGatewayLogsRoleIfMissing"}
        namespace["handler"](event, None)
    finally:
        del sys.modules["cfnresponse"]
    return replies


def behaviour_problems(code):
    import boto3
    from moto import mock_aws

    problems = []
    cases = [
        # (request, the account's role before, the role expected after)
        ("Create", None, OURS),
        ("Create", THEIRS, THEIRS),
        ("Update", THEIRS, THEIRS),
        ("Update", None, OURS),
        ("Delete", OURS, OURS),
        ("Delete", THEIRS, THEIRS),
    ]
    for request, before, after in cases:
        with mock_aws():
            apigateway = boto3.client("apigateway", region_name=cfn.REGION)
            if before:
                apigateway.update_account(patchOperations=[
                    {"op": "replace", "path": "/cloudwatchRoleArn", "value": before}])
            replies = run_handler(code, request)
            got = apigateway.get_account().get("cloudwatchRoleArn")
        if got != after:
            problems.append(f"{request} with {before or 'no role'}: the account's role became {got}")
        if replies != ["SUCCESS"]:
            problems.append(f"{request} with {before or 'no role'}: answered {replies}")
    return problems


class LogsRoleIfMissing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # moto must never reach AWS, whatever the environment holds.
        cls.saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                    "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")}
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION=cfn.REGION)
        os.environ.pop("AWS_SESSION_TOKEN", None)

    @classmethod
    def tearDownClass(cls):
        for k, v in cls.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_sets_the_role_only_when_the_account_has_none(self):
        self.assertEqual(behaviour_problems(setter_code()), [])

    def test_the_check_notices_code_that_replaces_a_role(self):
        code = setter_code()
        guard = '    if apigateway.get_account().get("cloudwatchRoleArn"):\n        return\n'
        self.assertIn(guard, code)
        problems = behaviour_problems(code.replace(guard, ""))
        self.assertTrue(any(f"with {THEIRS}" in p for p in problems), problems)

    def test_a_failure_is_reported_not_left_hanging(self):
        code = setter_code().replace('event["ResourceProperties"]["RoleArn"]', 'event["ResourceProperties"]["Nope"]')
        self.assertEqual(run_handler(code, "Create"), ["FAILED"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
