// Runs InfopackZstd over test cases described by a JSON manifest, in one node process.
//
// usage: node zstd_cases.js MANIFEST.json  ->  prints a JSON object {case name: result}
//
// zstd.js is loaded with vm.runInThisContext, the way a browser runs a classic <script>, so the
// test sees exactly the one global the viewer will see. Each manifest entry:
//   {name, input, dict?, expected?}   decode input (with the dictionary file, if any); the result
//                                     is {ok, length, equal} or {ok: false, error}
//   {name, input, dict?, fuzz, seed}  decode `fuzz` corrupted copies of input; every attempt must
//                                     return bytes or throw an Error starting with "zstd: "; the
//                                     result counts each outcome and keeps the first bad error
//   {..., fuzzDict: true}             the same, corrupting the dictionary instead of the frame
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const decoderPath = path.join(__dirname, '..', '..', 'src', 'infopack', 'build', 'viewer', 'zstd.js');
vm.runInThisContext(fs.readFileSync(decoderPath, 'utf8'), { filename: decoderPath });
const zstd = globalThis.InfopackZstd;

const dictionaries = new Map();
function dictionaryFor(file) {
  if (!file) return undefined;
  if (!dictionaries.has(file)) dictionaries.set(file, zstd.prepareDictionary(fs.readFileSync(file)));
  return dictionaries.get(file);
}

// A small deterministic generator so fuzz runs are reproducible from their seed.
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function corrupt(input, next) {
  const copy = Uint8Array.from(input);
  const how = next() % 3;
  if (how === 0) {
    // flip one to four random bytes
    const flips = 1 + (next() % 4);
    for (let i = 0; i < flips; i++) copy[next() % copy.length] ^= 1 + (next() % 255);
    return copy;
  }
  if (how === 1) return copy.subarray(0, next() % copy.length); // truncate
  copy[next() % copy.length] = next() & 255; // overwrite one byte
  return copy;
}

function runDecode(entry) {
  const input = fs.readFileSync(entry.input);
  try {
    const out = zstd.decompress(new Uint8Array(input), dictionaryFor(entry.dict));
    const result = { ok: true, length: out.length };
    if (entry.expected) result.equal = Buffer.from(out.buffer, out.byteOffset, out.length).equals(fs.readFileSync(entry.expected));
    return result;
  } catch (err) {
    return { ok: false, error: String(err && err.message), kind: err && err.constructor && err.constructor.name };
  }
}

function runFuzz(entry) {
  const input = new Uint8Array(fs.readFileSync(entry.input));
  // With fuzzDict the dictionary is what gets corrupted, and the frame stays intact.
  const dictBytes = entry.fuzzDict ? new Uint8Array(fs.readFileSync(entry.dict)) : null;
  const dict = entry.fuzzDict ? undefined : dictionaryFor(entry.dict);
  const next = lcg(entry.seed);
  const counts = { decoded: 0, rejected: 0, bad: 0 };
  let firstBad = null;
  for (let i = 0; i < entry.fuzz; i++) {
    try {
      if (entry.fuzzDict) zstd.decompress(input, zstd.prepareDictionary(corrupt(dictBytes, next)));
      else zstd.decompress(corrupt(input, next), dict);
      counts.decoded++;
    } catch (err) {
      if (err instanceof Error && err.constructor === Error && /^zstd: /.test(err.message)) {
        counts.rejected++;
      } else {
        counts.bad++;
        if (firstBad === null) firstBad = String(err && err.stack);
      }
    }
  }
  return Object.assign(counts, { firstBad });
}

const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = {};
for (const entry of manifest) results[entry.name] = entry.fuzz ? runFuzz(entry) : runDecode(entry);
process.stdout.write(JSON.stringify(results));
