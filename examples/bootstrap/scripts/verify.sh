#!/bin/sh
# Check an extracted Bootstrap Pack against the manifest.json it carries: every listed file
# present with its listed size and sha256, and nothing on disk that is not listed.
#
# This proves the copy is intact, not that it is genuine: verify the signed envelope
# (checksum-verify --trust trust.json --envelope bootstrap.dsse.json bootstrap.tar.gz)
# before trusting manifest.json itself.
#
# usage: sh scripts/verify.sh [BUNDLE_DIR]    (default: the bundle this script came in)
# exit:  0 intact, 1 a file is missing, changed or unexpected, 2 cannot check
set -eu

root=${1:-"$(dirname "$0")/.."}
if ! command -v python3 >/dev/null 2>&1; then
    echo "verify.sh: error: python3 is required" >&2
    exit 2
fi

exec python3 - "$root" <<'PY'
import hashlib, json, os, sys

root = sys.argv[1]
try:
    with open(os.path.join(root, "manifest.json"), "rb") as f:
        manifest = json.load(f)
except (OSError, ValueError) as e:
    print(f"verify.sh: error: {root}/manifest.json: {e}", file=sys.stderr)
    sys.exit(2)
if manifest.get("schema") != "stellaops.bundle/v1":
    print(f"verify.sh: error: unsupported schema {manifest.get('schema')!r}", file=sys.stderr)
    sys.exit(2)

bad = 0
listed = set()
for entry in manifest["files"]:
    path = entry["path"]
    listed.add(path)
    digest, size = hashlib.sha256(), 0
    try:
        with open(os.path.join(root, path), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except FileNotFoundError:
        print(f"{path}: MISSING")
        bad += 1
        continue
    if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
        print(f"{path}: FAILED")
        bad += 1
    else:
        print(f"{path}: OK")

for folder, _, names in os.walk(root):
    for name in names:
        path = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
        if path != "manifest.json" and path not in listed:
            print(f"{path}: UNEXPECTED")
            bad += 1

print(f"{manifest['bundleId']} generation {manifest['mirrorGeneration']}: "
      f"{len(listed)} files, {'intact' if bad == 0 else f'{bad} problem(s)'}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
