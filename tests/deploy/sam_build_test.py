"""`sam build` runs `make build-<Function>`. The bootstrap it leaves in ARTIFACTS_DIR must be the
architecture the functions deploy with, built from what is installed, without apt or root:
- the Makefile resolves the architecture where `sam deploy` resolves the Architecture parameter
  (samconfig.toml's overrides, else template.yaml's default), and the translated functions carry
  that same value;
- x86_64 (this machine's Release build, CRUD_BUILD_DIR) gives an x86_64 ELF bootstrap, mode 0755;
- arm64 without the cross toolchain fails, naming what is missing, and ships nothing;
- a binary of the wrong architecture is refused at the last step, whatever produced it.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
import cfn  # noqa: E402

BUILD = Path(os.environ.get("CRUD_BUILD_DIR") or cfn.ROOT / "build")
E_MACHINE = {"x86_64": 62, "arm64": 183}


def make(*args, env=None):
    run = subprocess.run(["make", "--no-print-directory", "-C", str(cfn.ROOT), *args],
                         capture_output=True, text=True, timeout=1800, check=False,
                         env={**os.environ, **(env or {})})
    return run.returncode, run.stdout + run.stderr


def elf_machine(path):
    data = Path(path).read_bytes()[:20]
    if data[:4] != b"\x7fELF":
        return None
    return int.from_bytes(data[18:20], "little")


def makefile_arch(tmpl_text=None, config_text=None):
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp) / "template.yaml"
        c = Path(tmp) / "samconfig.toml"
        t.write_text(tmpl_text if tmpl_text is not None else (cfn.ROOT / "template.yaml").read_text())
        c.write_text(config_text if config_text is not None else (cfn.ROOT / "samconfig.toml").read_text())
        code, out = make("-s", "sam-lambda-arch", f"SAM_TEMPLATE={t}", f"SAM_CONFIG={c}",
                         env={"LAMBDA_ARCH": ""})
    return out.strip() if code == 0 else f"error {code}: {out}"


def deploy_arch(config_text=None):
    """The Architecture `sam deploy` passes: samconfig.toml's override, else the default."""
    text = config_text if config_text is not None else (cfn.ROOT / "samconfig.toml").read_text()
    m = re.search(r'^parameter_overrides\s*=.*Architecture=\\"(\w+)\\"', text, re.M)
    return m.group(1) if m else cfn.template()["Parameters"]["Architecture"]["Default"]


class SamBuild(unittest.TestCase):
    def test_the_makefile_builds_for_the_architecture_the_stack_deploys_with(self):
        self.assertEqual(makefile_arch(), deploy_arch())
        out = cfn.deployed({"Architecture": deploy_arch()})
        for name in ("CreateFunction", "ReadFunction", "UpdateFunction", "DeleteFunction"):
            self.assertEqual(out["Resources"][name]["Properties"]["Architectures"], [deploy_arch()], name)
        # The two sources, each changed on its own, are followed.
        config = (cfn.ROOT / "samconfig.toml").read_text()
        flipped = "x86_64" if deploy_arch() == "arm64" else "arm64"
        changed = re.sub(r'Architecture=\\"\w+\\"', f'Architecture=\\\\"{flipped}\\\\"', config)
        self.assertEqual(makefile_arch(config_text=changed), flipped)
        self.assertEqual(deploy_arch(changed), flipped)
        without = re.sub(r' ?Architecture=\\"\w+\\"', "", config)
        tmpl = (cfn.ROOT / "template.yaml").read_text()
        default = cfn.template()["Parameters"]["Architecture"]["Default"]
        self.assertEqual(makefile_arch(config_text=without), default)
        other = "x86_64" if default == "arm64" else "arm64"
        moved = tmpl.replace(f"    Default: {default}\n    AllowedValues: [arm64, x86_64]",
                             f"    Default: {other}\n    AllowedValues: [arm64, x86_64]", 1)
        self.assertNotEqual(moved, tmpl)
        self.assertEqual(makefile_arch(moved, without), other)

    def test_x86_64_gives_an_x86_64_bootstrap(self):
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = Path(tmp) / "CreateFunction"
            code, out = make("build-CreateFunction", f"BUILD={BUILD}", f"ARTIFACTS_DIR={artifacts}",
                             "LAMBDA_ARCH=x86_64")
            self.assertEqual(code, 0, out)
            bootstrap = artifacts / "bootstrap"
            self.assertEqual(elf_machine(bootstrap), E_MACHINE["x86_64"])
            self.assertEqual(bootstrap.stat().st_mode & 0o777, 0o755)
            self.assertEqual(sorted(p.name for p in artifacts.iterdir()), ["bootstrap"])

    def test_arm64_without_a_cross_toolchain_fails_naming_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = Path(tmp) / "ReadFunction"
            code, out = make("build-ReadFunction", f"BUILD={BUILD}", f"ARTIFACTS_DIR={artifacts}",
                             "LAMBDA_ARCH=arm64", "AARCH64_CXX=aarch64-linux-gnu-g++-not-installed",
                             f"ARM64_BUILD={tmp}/build-arm64")
            self.assertNotEqual(code, 0, out)
            self.assertIn("aarch64-linux-gnu-g++-not-installed", out)
            self.assertIn("install-deps.sh --package", out)
            self.assertFalse((artifacts / "bootstrap").exists(), "a bootstrap was shipped anyway")

    def test_a_binary_of_another_architecture_is_refused(self):
        binary = BUILD / "crud-api"
        self.assertEqual(elf_machine(binary), E_MACHINE["x86_64"], f"{binary} should be this machine's build")
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = Path(tmp) / "art"
            code, out = make("sam-bootstrap", f"ARTIFACTS_DIR={artifacts}", f"BOOTSTRAP_SRC={binary}",
                             "LAMBDA_ARCH=arm64")
            self.assertNotEqual(code, 0, out)
            self.assertIn("not an arm64 executable", out)
            self.assertFalse((artifacts / "bootstrap").exists())
            script = Path(tmp) / "not-elf"
            script.write_text("#!/bin/sh\n")
            code, out = make("sam-bootstrap", f"ARTIFACTS_DIR={artifacts}", f"BOOTSTRAP_SRC={script}",
                             "LAMBDA_ARCH=x86_64")
            self.assertNotEqual(code, 0, out)
            self.assertFalse((artifacts / "bootstrap").exists())
            code, out = make("sam-bootstrap", f"ARTIFACTS_DIR={artifacts}", f"BOOTSTRAP_SRC={binary}",
                             "LAMBDA_ARCH=x86_64")
            self.assertEqual(code, 0, out)
            self.assertEqual(elf_machine(artifacts / "bootstrap"), E_MACHINE["x86_64"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
