#!/usr/bin/env python3
"""Zips a built crud-api as a Lambda deployment package for the provided.al2023 runtime.

    scripts/lambda_zip.py BINARY OUT.zip

The zip holds one member, `bootstrap` (the name the custom runtime executes), with Unix mode
0755 in its external attributes: Lambda keeps the mode it finds in the zip, and a member without
the executable bit fails every invocation with "permission denied". The member's timestamp is
fixed (SOURCE_DATE_EPOCH, else 1980-01-01) and the zip is written to a temporary name and
renamed, so the same binary always gives the same zip, byte for byte, and a reader never sees a
half-written one.
"""

import os
import stat
import sys
import time
import zipfile


def main(argv):
    if len(argv) != 3:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    binary, out = argv[1], argv[2]
    with open(binary, "rb") as f:
        payload = f.read()
    if payload[:4] != b"\x7fELF":
        print(f"lambda_zip: {binary} is not an ELF executable", file=sys.stderr)
        return 1

    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, zip's floor
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    member = zipfile.ZipInfo("bootstrap", date_time=stamp)
    member.create_system = 3  # Unix, so readers honour the mode below
    member.external_attr = (stat.S_IFREG | 0o755) << 16
    member.compress_type = zipfile.ZIP_DEFLATED

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    partial = out + ".partial"
    with zipfile.ZipFile(partial, "w") as z:
        z.writestr(member, payload, compresslevel=9)
    os.replace(partial, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
