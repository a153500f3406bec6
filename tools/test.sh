#!/usr/bin/env bash
# Install what the tests need, then run them (README, second command; .ci/run runs this too).
#   Debian: chromium (the real browser the viewer is tested in), ffmpeg + exiftool (media cleaning
#   and an independent metadata reader), espeak-ng (example audio), minisign (cross-checks our
#   signatures), dosfstools + mtools (FAT32 images), firefox-esr (second browser).
#   npm (dev only, never in a bundle): fzstd, a comparator for our JS zstd decoder.
set -euo pipefail
cd "$(dirname "$0")/.."

packages="chromium ffmpeg libimage-exiftool-perl espeak-ng minisign dosfstools mtools firefox-esr fuse fusefat python3-fusepy"
missing=""
for package in $packages; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
python3 -m pip install -q -e '.[test]'
npm ci --no-audit --no-fund --loglevel=error
python3 -m pytest -q "$@"
