"""cfn-lint, AWS's CloudFormation linter, has nothing to say about template.yaml: no error, no
warning, no informational message, whatever the parameters: as written (every Condition both
ways) and for the deployments README "Multi-region" describes (the table's home Region with two
replicas and every optional feature on; another Region's stack on that table). It cannot see into
the included openapi.yaml, which is why template.yaml uses every Condition itself;
sam_translate_test.py covers the whole.
"""

import shutil
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

# cfn-lint's own entry point, on this interpreter (the one whose modules install-deps checks).
LINT = [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]


# Parameter values cfn-lint resolves the template's conditions and functions with. Without them
# it explores the Conditions' combinations itself; it does not check values against a
# parameter's AllowedValues (the SAM translation tests use the values to build each stack).
HOME_REGION_ALL_ON = ["ReplicaRegions=eu-west-1,ap-southeast-2", "CreateProvisionedConcurrency=1",
                      "ReadProvisionedConcurrency=2", "UpdateProvisionedConcurrency=1",
                      "DeleteProvisionedConcurrency=1", "ApiCacheSize=0.5", "DomainName=api.example.com",
                      "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc",
                      "HostedZoneId=Z0123456789ABC", "AlarmEmail=ops@example.com", "AuthType=COGNITO"]
OTHER_REGION = ["ExistingTableName=crud-api-ItemsTable-ABC123", "DomainName=api.example.com",
                "CertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/def",
                "HostedZoneId=Z0123456789ABC"]


def lint(directory, parameters=()):
    args = [*LINT, "template.yaml"] + (["--parameters", *parameters] if parameters else [])
    run = subprocess.run(args, cwd=directory, capture_output=True, text=True, timeout=240, check=False)
    return run.returncode, (run.stdout + run.stderr).strip()


def broken_copy(directory):
    text = (cfn.ROOT / "template.yaml").read_text(encoding="utf-8")
    broken = text.replace("\nConditions:\n", "\nConditions:\n  NobodyUsesMe: !Equals [!Ref Stage, prod]\n", 1)
    broken = broken.replace("KmsMasterKeyId: !Ref AlarmTopicKey", "KmsMasterKeyId: !Ref NoSuchKey", 1)
    assert broken.count("NobodyUsesMe") == 1 and broken.count("NoSuchKey") == 1
    (Path(directory) / "template.yaml").write_text(broken, encoding="utf-8")
    shutil.copy(cfn.ROOT / "openapi.yaml", directory)


class CfnLint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Both runs at once: cfn-lint spends its seconds loading its rules and specs.
        cls.tmp = tempfile.TemporaryDirectory()
        broken_copy(cls.tmp.name)
        runs = [(cfn.ROOT, ()), (cls.tmp.name, ()), (cfn.ROOT, HOME_REGION_ALL_ON), (cfn.ROOT, OTHER_REGION)]
        with ThreadPoolExecutor(2) as pool:
            cls.clean, cls.broken, cls.all_on, cls.other_region = pool.map(lambda run: lint(*run), runs)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_template_yaml_is_clean(self):
        self.assertEqual(self.clean, (0, ""))

    def test_template_yaml_is_clean_in_each_multi_region_deployment(self):
        self.assertEqual(self.all_on, (0, ""))
        self.assertEqual(self.other_region, (0, ""))

    def test_the_linter_speaks_up_on_a_broken_copy(self):
        code, output = self.broken
        self.assertNotEqual(code, 0)
        self.assertIn("W8001", output)
        self.assertIn("NoSuchKey", output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
