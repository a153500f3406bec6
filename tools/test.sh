#!/usr/bin/env bash
# Install what the tests need, then run them (README, second command; .ci/run runs this too).
#   Debian: chromium + firefox-esr (the real browsers the viewer is tested in), ffmpeg + exiftool
#   (media cleaning and an independent metadata reader), espeak-ng (example audio), minisign
#   (cross-checks our signatures), dosfstools + mtools + fuse + fusefat + python3-fusepy (FAT32
#   images), fonts-noto-cjk (Korean text in screenshots), npm (dev tools below).
#   Python (in .venv): infopack with its test extras (pytest, hypothesis, playwright, ruff, mypy, ...).
#   npm (dev only, never in a bundle): fzstd (a comparator for our JS zstd decoder), acorn.
# ruff and mypy run first (pyproject.toml says what they check).
# Extra arguments go to pytest, e.g. `bash tools/test.sh -m "not browser"` for a quick run.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib.sh

apt_need chromium firefox-esr ffmpeg libimage-exiftool-perl espeak-ng minisign dosfstools mtools pandoc \
  fuse fusefat python3-fusepy fonts-noto-cjk zim-tools kiwix-tools iso-codes w3m rsync  # w3m: text copies of pages (bench/extract_quality.py)
command -v npm >/dev/null || apt_need npm   # Debian's npm only where no Node.js is installed already
venv_ready "[test]"
npm ci --no-audit --no-fund --loglevel=error
.venv/bin/ruff check src tests bench tools
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
