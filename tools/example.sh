#!/usr/bin/env bash
# Build, sign and verify the example bundle from content/ (README, first command).
# Uses a throwaway example key in bundles/ (git-ignored); real releases use a key kept offline.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffprobe >/dev/null; then  # audio/video are cleaned with Debian's ffmpeg
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
fi
python3 -m pip install -q -e .

export INFOPACK_PASSPHRASE="${INFOPACK_PASSPHRASE:-example only - not a real release key}"
if [ ! -f bundles/example-key.key ]; then
  infopack keygen bundles/example-key --comment "infopack example key, not for real releases"
fi
infopack build content --out bundles/example --force --sign bundles/example-key.key
infopack verify bundles/example --trust bundles/example-key.pub
