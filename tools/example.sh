#!/usr/bin/env bash
# Build, sign and verify the example bundle from content/ (README, first command).
# Uses a throwaway example key in bundles/ (git-ignored); real releases use a key kept offline.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib.sh

apt_need ffmpeg   # audio and video are cleaned with Debian's ffmpeg
venv_ready ""
infopack=.venv/bin/infopack

export INFOPACK_PASSPHRASE="${INFOPACK_PASSPHRASE:-example only - not a real release key}"
if [ ! -f bundles/example-key.key ]; then
  $infopack keygen bundles/example-key --comment "infopack example key, not for real releases"
fi
$infopack build content --out bundles/example --force --sign bundles/example-key.key
$infopack verify bundles/example --trust bundles/example-key.pub
echo "Open bundles/example/index.html in a browser. Run infopack yourself as .venv/bin/infopack (or: source .venv/bin/activate)."
