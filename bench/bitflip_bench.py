"""What one flipped bit in a text pack's data file costs, with per-article checks (issue 15, part 2).

    nice -n 10 python bench/bitflip_bench.py [BUNDLE] [FLIPS]   # default: the 10k bench bundle, 4000 flips

A bit is flipped at a random position of a random `data/text/NNNN.js`; the file is then read the
way the viewer reads it, by V8 itself (Node, the engine of Chromium): decoded as UTF-16LE (lone
surrogates become U+FFFD, as the browser's decoder does) and run as a script whose
`infopackData(name, units)` call yields the payload, then every article of the pack is checked
against its catalog `check`. Counted per flip: no article lost, one lost, several lost (the flip
changed the payload's length, e.g. inside a `\\uXXXX` escape), or the whole pack lost (the file no
longer runs, or calls infopackData with another name). Side by side: the same flips judged the way
the viewer judged before per-article checks (any change to the payload loses the whole pack).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import zstandard

from infopack.build.pack import read_data_file

NODE_JUDGE = r"""
const fs = require('fs'), vm = require('vm'), crypto = require('crypto');
const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const job of jobs) {
  const original = fs.readFileSync(job.file);
  for (const bit of job.bits) {
    const data = Buffer.from(original);
    data[bit >> 3] ^= 1 << (bit & 7);
    let text = new TextDecoder('utf-16le', { ignoreBOM: true }).decode(data);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let got = null;
    try {
      vm.runInNewContext(text, { infopackData: (name, units) => { if (name === job.name) got = units; } }, { timeout: 2000 });
    } catch (e) { got = null; }
    if (got === null) { out.push(['pack', false]); continue; }
    const bytes = Buffer.alloc(got.length * 2);
    for (let i = 0; i < got.length; i++) bytes.writeUInt16LE(got.charCodeAt(i), 2 * i);
    const payload = bytes.subarray(0, Math.min(job.length, bytes.length));
    let lost = 0;
    for (const [offset, length, check] of job.frames) {
      const frame = payload.subarray(offset, offset + length);
      const hex = crypto.createHash('sha256').update(frame).digest('hex');
      if (frame.length !== length || hex.slice(0, check.length) !== check) lost++;
    }
    const changed = payload.length !== job.length || crypto.createHash('sha256').update(payload).digest('hex') !== job.sha256;
    out.push([lost, changed]);
  }
}
process.stdout.write(JSON.stringify(out));
"""


def root_of(bundle: Path) -> dict:
    html = (bundle / "index.html").read_text(encoding="utf-8")
    marker = '<script id="infopack-root" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def main(bundle: Path, flips: int) -> None:
    root = root_of(bundle)
    frames: dict[str, list] = {}
    for shard in range(-(-root["articles"] // root["catalog_shard_size"])):
        name = f"cat/{shard:04d}"
        data = read_data_file((bundle / "data" / f"{name}.js").read_bytes(), root["files"][name][0])[1]
        for row in json.loads(zstandard.ZstdDecompressor().decompress(data)):
            frames.setdefault(f"text/{row[6]:04d}", []).append([row[7], row[8], row[10]])
    rng = random.Random(15)
    packs = sorted(frames)
    chosen: dict[str, list[int]] = {}
    for _ in range(flips):
        pack = rng.choice(packs)
        size = (bundle / "data" / f"{pack}.js").stat().st_size
        chosen.setdefault(pack, []).append(rng.randrange(size * 8))
    jobs = [{"file": str(bundle / "data" / f"{pack}.js"), "name": pack, "bits": bits, "frames": frames[pack],
             "length": root["files"][pack][0], "sha256": root["files"][pack][1]} for pack, bits in chosen.items()]  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "jobs.json").write_text(json.dumps(jobs))
        (Path(scratch) / "judge.js").write_text(NODE_JUDGE)
        result = subprocess.run(["node", str(Path(scratch) / "judge.js"), str(Path(scratch) / "jobs.json")],
                                capture_output=True, text=True, check=True)  # fmt: skip
    verdicts = json.loads(result.stdout)
    per_pack = sum(len(frames[p]) for p in packs) / len(packs)
    none = sum(1 for lost, _ in verdicts if lost == 0)
    one = sum(1 for lost, _ in verdicts if lost == 1)
    several = [lost for lost, _ in verdicts if lost not in ("pack", 0, 1)]
    whole = sum(1 for lost, _ in verdicts if lost == "pack")
    before = sum(1 for lost, changed in verdicts if lost == "pack" or changed)
    n = len(verdicts)
    lost_now = one + sum(several) + whole * per_pack
    print(f"{bundle}: {len(packs)} text packs, {per_pack:.1f} articles per pack, {n} flips")
    print(f"  per-article checks: none lost {none / n:.1%}, one article {one / n:.1%}, several {len(several) / n:.1%} "
          f"(median {sorted(several)[len(several) // 2] if several else 0}), whole pack (file no longer runs) {whole / n:.1%}")
    print(f"  articles lost per flip: {lost_now / n:.2f} now; {before * per_pack / n:.2f} when the whole pack was checked "
          f"(ratio {before * per_pack / max(lost_now, 1e-9):.0f}x)")
    pack_file = bundle / "library.pack"
    if pack_file.exists():
        # In library.pack the payloads are raw bytes: a flip in a text payload hits one frame, a flip
        # elsewhere costs that payload (a catalog shard, a search shard...) or, in the header and
        # index, the file (the viewer refuses a pack whose index does not match its root document).
        size = pack_file.stat().st_size
        text = sum(length for name, (length, _digest) in root["files"].items() if name.startswith("text/"))
        head = size - sum(length for length, _digest in root["files"].values())
        print(f"  library.pack ({size:,} bytes): a flip lands in one article's text {text / size:.1%}, in another payload "
              f"{(size - text - head) / size:.1%}, in the header and index {head / size:.2%} (the file is refused)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/readerdata-bench/bundle-10000"),
         int(sys.argv[2]) if len(sys.argv) > 2 else 4000)
