// Runs InfopackSearch over a JSON manifest in one node process and prints a JSON result.
//
// usage: node search_runner.js MANIFEST.json
//
// search.js is loaded with vm.runInThisContext, the way a browser runs a classic <script>, so the
// test sees exactly the one global the viewer sees. zstd payloads are decoded with fzstd from
// node_modules (a dev-only tool). Manifest keys, each optional:
//   tokenize: [text]                       -> [[token]]
//   plan: [query]                          -> [[[lo, hi, weight]]]
//   index: {dir, meta}                     payload NAME is the file DIR/NAME
//   searches: [{q, lang?, limit?}]         -> [[{id, score}]] or {error}
//   highlight: [[text, query]]             -> [[{text, match}]]
//   snippet: [[text, query, maxChars]]     -> [string]
//   suggestKey: [text]                     -> [key]    (title suggestions, FORMAT.md 9.6)
//   suggestRoute: [query]                  -> [route]
//   suggests: [{q, limit}]                 -> [{results: [{text, slug, lang, title}], loaded}]
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const root = path.join(__dirname, '..', '..');
const enginePath = path.join(root, 'src', 'infopack', 'build', 'viewer', 'search.js');
vm.runInThisContext(fs.readFileSync(enginePath, 'utf8'), { filename: enginePath });
const S = globalThis.InfopackSearch;
const fzstd = require(path.join(root, 'node_modules', 'fzstd'));

async function main() {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const out = {};
  if (manifest.tokenize) out.tokenize = manifest.tokenize.map((text) => S.tokenize(text));
  if (manifest.plan) {
    out.plan = manifest.plan.map((q) => S.plan(q).map((slot) => slot.map((a) => [a.lo, a.hi, a.weight])));
  }
  if (manifest.index) {
    const loaded = [];
    const load = (name) =>
      new Promise((resolve, reject) => {
        loaded.push(name);
        fs.readFile(path.join(manifest.index.dir, name), (err, data) =>
          err ? reject(new Error('missing payload ' + name)) : resolve(new Uint8Array(data)));
      });
    const engine = S.create(manifest.index.meta, load, (bytes) => fzstd.decompress(bytes));
    out.searches = [];
    for (const s of manifest.searches || []) {
      loaded.length = 0;
      try {
        const results = await engine.search(s.q, { lang: s.lang, limit: s.limit });
        out.searches.push({ results, loaded: loaded.slice() });
      } catch (err) {
        out.searches.push({ error: String(err && err.message) });
      }
    }
    out.suggests = [];
    for (const s of manifest.suggests || []) {
      loaded.length = 0;
      const results = await engine.suggest(s.q, s.limit || 8);
      out.suggests.push({ results, loaded: loaded.slice() });
    }
  }
  if (manifest.suggestKey) out.suggestKey = manifest.suggestKey.map((t) => S.suggestKey(t, 32));
  if (manifest.suggestRoute) out.suggestRoute = manifest.suggestRoute.map((t) => S.suggestRoute(t, 32));
  if (manifest.highlight) out.highlight = manifest.highlight.map(([t, q]) => S.highlight(t, q));
  if (manifest.snippet) out.snippet = manifest.snippet.map(([t, q, n]) => S.snippet(t, q, n));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack) + '\n');
  process.exit(1);
});
