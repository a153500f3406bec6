/* infopack search: query engine for the sharded index of docs/FORMAT.md section 9.
 *
 * A classic script (Chrome 109 / Firefox 115) defining one global, InfopackSearch. It never touches
 * the network, storage or the DOM: payloads come through the loadPayload callback the viewer gives
 * it, and snippets are returned as plain strings and {text, match} pieces for textContent.
 * The tokenizer and query planner mirror src/infopack/build/search.py exactly; tests/vectors/ check it.
 */
var InfopackSearch = (function () {
  "use strict";

  var SYLLABLE_FIRST = 0xac00;
  var SYLLABLE_LAST = 0xd7a3;
  var VOWELS = 21;
  var FINALS = 28;
  var L_NIEUN = 2;
  var L_RIEUL = 5;
  var L_IEUNG = 11;
  var IOTIZED = [2, 6, 7, 12, 17, 20]; // ㅑ ㅕ ㅖ ㅛ ㅠ ㅣ
  var CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
  var COMPOUND_FINALS = { 1: [3], 4: [5, 6], 8: [9, 10, 11, 12, 13, 14, 15], 17: [18] };
  var MAX_TOKEN_CHARS = 40;
  var MAX_QUERY_SLOTS = 32;
  var EXPANSION_WEIGHT = 0.8;
  var RANGE_END = "\u{10FFFF}";
  var IMPACT_SCALE = 32;
  // Bounds on what one query may expand to, so a one-letter prefix cannot load the whole index.
  var MAX_SHARDS_PER_ALT = 4;
  var MAX_TERMS_PER_ALT = 64;
  var MAX_CACHED_SHARDS = 96;
  var MAX_CACHED_SUGGEST = 32; // suggestion files kept for the next keystrokes
  var MAX_HEADS_READ_AHEAD = 16; // fewer than the cache holds, so shards still have room

  var SEGMENT_RE = new RegExp(
    "([\\uac00-\\ud7a3]+)|([\\u3131-\\u318e]+)|([\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff]+)|" +
      "((?:(?![\\uac00-\\ud7a3\\u3131-\\u318e\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff])[\\p{L}\\p{N}\\p{M}])+)",
    "gu"
  );
  var WORD_CHAR_RE = /[\p{L}\p{N}\p{M}]/u;
  var STEM_TARGET_RE = /^[a-z]{4,}$/;
  var ASCII_RE = /^[\x00-\x7f]*$/;
  var DIACRITICS_RE = /[\u0300-\u036f]/g;

  function isIotized(vowel) {
    return IOTIZED.indexOf(vowel) >= 0;
  }

  // The initial-sound rule, one syllable in and one out: 로 -> 노, 력 -> 역, 녀 -> 여.
  function initialSound(code) {
    if (code < SYLLABLE_FIRST || code > SYLLABLE_LAST) return code;
    var index = code - SYLLABLE_FIRST;
    var lead = Math.floor(index / (VOWELS * FINALS));
    var vowel = Math.floor(index / FINALS) % VOWELS;
    var newLead = lead;
    if (lead === L_RIEUL) newLead = isIotized(vowel) ? L_IEUNG : L_NIEUN;
    else if (lead === L_NIEUN && isIotized(vowel)) newLead = L_IEUNG;
    return code + (newLead - lead) * VOWELS * FINALS;
  }

  function normalizeText(text) {
    return text.normalize("NFC").replace(/[\uac00-\ud7a3]/g, function (ch) {
      return String.fromCharCode(initialSound(ch.charCodeAt(0)));
    });
  }

  function firstCodePoints(text, count) {
    if (text.length <= count) return text;
    var points = Array.from(text);
    return points.length > count ? points.slice(0, count).join("") : text;
  }

  function stem(word) {
    if (!/s$/.test(word) || /(ss|us|is)$/.test(word)) return word;
    if (/ies$/.test(word) && word.length > 4 && !/(eies|aies)$/.test(word)) return word.slice(0, -3) + "y";
    if (/(sses|xes|ches|shes|zzes)$/.test(word)) return word.slice(0, -2);
    return word.slice(0, -1);
  }

  function foldWord(segment) {
    var folded = segment.toLowerCase();
    if (!ASCII_RE.test(folded)) {
      folded = folded.normalize("NFD").replace(DIACRITICS_RE, "").normalize("NFC");
    }
    return firstCodePoints(folded, MAX_TOKEN_CHARS);
  }

  function wordToken(segment) {
    var folded = foldWord(segment);
    return STEM_TARGET_RE.test(folded) ? stem(folded) : folded;
  }

  function grams(run, out) {
    if (run.length === 1) out.push(run);
    else for (var i = 0; i + 1 < run.length; i++) out.push(run.slice(i, i + 2));
  }

  // Segments of normalised text: {kind: 1 Hangul, 2 jamo, 3 CJK, 4 other; text; start; end}.
  function segments(text) {
    var found = [];
    var match;
    SEGMENT_RE.lastIndex = 0;
    while ((match = SEGMENT_RE.exec(text)) !== null) {
      var kind = match[1] ? 1 : match[2] ? 2 : match[3] ? 3 : 4;
      found.push({ kind: kind, text: match[0], start: match.index, end: match.index + match[0].length });
    }
    return found;
  }

  function tokenize(text) {
    var tokens = [];
    segments(normalizeText(text)).forEach(function (seg) {
      if (seg.kind === 1 || seg.kind === 3) grams(seg.text, tokens);
      else if (seg.kind === 2) tokens.push(seg.text.slice(0, MAX_TOKEN_CHARS));
      else {
        var token = wordToken(seg.text);
        if (token) tokens.push(token);
      }
    });
    return tokens;
  }

  // --- Title suggestion keys (same rules as suggest.py suggest_key; FORMAT.md 9.6) ------------------

  var FINAL_JAMO = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ";
  var TRAILING_JAMO_RE = /[\u3131-\u318e]+$/;
  var ALL_CHOSEONG_RE = /^[ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ]{2,}/;

  function suggestKey(text, keyChars) {
    var parts = [];
    var end = 0;
    segments(normalizeText(text)).forEach(function (seg) {
      if (parts.length && seg.start > end) parts.push(" ");
      if (seg.kind === 1) {
        for (var i = 0; i < seg.text.length; i++) {
          var code = seg.text.charCodeAt(i);
          var final = (code - SYLLABLE_FIRST) % FINALS;
          parts.push(String.fromCharCode(code - final) + (final ? FINAL_JAMO.charAt(final - 1) : ""));
        }
      } else {
        parts.push(seg.kind === 4 ? foldWord(seg.text) : seg.text);
      }
      end = seg.end;
    });
    return firstCodePoints(parts.join(""), keyChars);
  }

  /* The key prefix a typed text is looked up by: its initial consonants when it is only those
   * (ㄷㄹ); otherwise its key, less what typing may still change: trailing jamo typed after
   * syllables (학교ㅇ -> 학교, 관ㅊ -> 관), or the last syllable's final consonant, which may move
   * on to start the next syllable (할 -> 하, on the way to 하루). */
  function suggestRoute(query, keyChars) {
    var text = String(query || "").normalize("NFC").trim();
    var initials = ALL_CHOSEONG_RE.exec(text);
    if (initials) return firstCodePoints(initials[0], keyChars);
    var jamo = TRAILING_JAMO_RE.exec(text);
    if (jamo) return suggestKey(text.slice(0, jamo.index), keyChars);
    var key = suggestKey(text, Infinity);
    var last = text.charCodeAt(text.length - 1);
    if (last >= SYLLABLE_FIRST && last <= SYLLABLE_LAST && (last - SYLLABLE_FIRST) % FINALS) key = key.slice(0, -1);
    return firstCodePoints(key, keyChars);
  }

  // --- Query planning (same rules as search.py plan_query) ------------------------------------------

  function syllable(lead, vowel, final) {
    return String.fromCharCode(SYLLABLE_FIRST + (lead * VOWELS + vowel) * FINALS + final);
  }

  // Syllable ranges the last, possibly half-typed, syllable may still become (구 -> 구..궇).
  function completions(ch) {
    var code = ch.charCodeAt(0);
    var final = (code - SYLLABLE_FIRST) % FINALS;
    var open = code - final;
    if (final === 0) return [[ch, String.fromCharCode(code + FINALS - 1)]];
    var ranges = [[ch, ch]];
    (COMPOUND_FINALS[final] || []).forEach(function (f) {
      var s = String.fromCharCode(open + f);
      ranges.push([s, s]);
    });
    ranges.push([String.fromCharCode(open), String.fromCharCode(open)]);
    return ranges;
  }

  function leadRanges(jamo) {
    var lead = CHOSEONG.indexOf(jamo);
    if (lead === L_NIEUN || lead === L_RIEUL) {
      var ranges = [[syllable(L_NIEUN, 0, 0), syllable(L_NIEUN, VOWELS - 1, FINALS - 1)]];
      IOTIZED.forEach(function (v) {
        ranges.push([syllable(L_IEUNG, v, 0), syllable(L_IEUNG, v, FINALS - 1)]);
      });
      return ranges;
    }
    return [[syllable(lead, 0, 0), syllable(lead, VOWELS - 1, FINALS - 1)]];
  }

  function exact(term) {
    return { lo: term, hi: term, weight: 1 };
  }

  function alt(lo, hi) {
    return { lo: lo, hi: hi, weight: EXPANSION_WEIGHT };
  }

  function gramSlots(run, ranges) {
    if (run.length === 1) {
      var alts = [exact(run), alt(run, run + RANGE_END)];
      (ranges || []).forEach(function (r) {
        alts.push(alt(r[0], r[1] + RANGE_END));
      });
      return [alts];
    }
    var slots = [];
    for (var i = 0; i + 1 < run.length; i++) slots.push([exact(run.slice(i, i + 2))]);
    var prev = run.charAt(run.length - 2);
    (ranges || []).forEach(function (r) {
      slots[slots.length - 1].push(alt(prev + r[0], prev + r[1]));
    });
    return slots;
  }

  function allChoseong(text) {
    for (var i = 0; i < text.length; i++) if (CHOSEONG.indexOf(text.charAt(i)) < 0) return false;
    return true;
  }

  function dedupe(slot) {
    var seen = {};
    return slot.filter(function (a) {
      var key = a.lo + "\u0000" + a.hi;
      if (seen[key]) return false;
      seen[key] = true;
      return true;
    });
  }

  // Query -> slots; a slot is a list of {lo, hi, weight}: terms t with lo <= t <= hi may fill it.
  function plan(query) {
    var text = normalizeText(query);
    var segs = segments(text);
    // The reader is still typing the last word when the query ends inside it.
    var typing = segs.length > 0 && segs[segs.length - 1].end === text.length;
    var slots = [];
    for (var n = 0; n < segs.length; n++) {
      var seg = segs[n];
      var run = seg.text;
      var isLast = typing && n === segs.length - 1;
      var next = segs[n + 1];
      if (seg.kind === 1) {
        if (
          next && next.kind === 2 && next.start === seg.end && typing && n + 1 === segs.length - 1 &&
          next.text.length === 1 && CHOSEONG.indexOf(next.text) >= 0
        ) {
          // 한ㄱ: a lone initial consonant right after syllables starts the next syllable.
          gramSlots(run, null).forEach(function (s) { slots.push(s); });
          var tail = run.charAt(run.length - 1);
          slots.push(leadRanges(next.text).map(function (r) { return alt(tail + r[0], tail + r[1]); }));
          n++;
          continue;
        }
        gramSlots(run, isLast ? completions(run.charAt(run.length - 1)) : null).forEach(function (s) {
          slots.push(s);
        });
      } else if (seg.kind === 2) {
        var initials = allChoseong(run);
        if (run.length >= 2 && initials) {
          for (var i = 0; i + 1 < run.length; i++) slots.push([exact(run.slice(i, i + 2))]);
        } else if (!initials) {
          slots.push([exact(run.slice(0, MAX_TOKEN_CHARS))]);
        }
      } else if (seg.kind === 3) {
        gramSlots(run, null).forEach(function (s) { slots.push(s); });
      } else {
        var token = wordToken(run);
        if (!token) continue;
        var alts = [exact(token)];
        var folded = foldWord(run);
        if (isLast && Array.from(folded).length >= 2) alts.push(alt(folded, folded + RANGE_END));
        slots.push(alts);
      }
    }
    return slots.slice(0, MAX_QUERY_SLOTS).map(dedupe);
  }

  // --- Index shards ------------------------------------------------------------------------------

  // Code point order (what Python's sort uses), not UTF-16 unit order.
  function compareTerms(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.charCodeAt(i);
      var y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) {
          x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
          y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
        }
        return x - y;
      }
    }
    return a.length - b.length;
  }

  function Reader(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }
  Reader.prototype.varint = function () {
    var value = 0;
    var scale = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new Error("search shard is truncated");
      var byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };

  function parseShard(bytes) {
    var reader = new Reader(bytes);
    var count = reader.varint();
    var namesLength = reader.varint();
    var names = new TextDecoder("utf-8").decode(bytes.subarray(reader.pos, reader.pos + namesLength));
    reader.pos += namesLength;
    var terms = count ? names.split("\n") : [];
    if (terms.length !== count) throw new Error("search shard term list is damaged");
    var dfs = new Uint32Array(count);
    var gapLengths = new Uint32Array(count);
    for (var i = 0; i < count; i++) {
      dfs[i] = reader.varint();
      gapLengths[i] = reader.varint();
    }
    var offsets = new Uint32Array(count);
    var pos = reader.pos;
    for (var k = 0; k < count; k++) {
      offsets[k] = pos;
      pos += gapLengths[k] + dfs[k];
    }
    if (pos > bytes.length) throw new Error("search shard is truncated");
    return { bytes: bytes, terms: terms, dfs: dfs, gapLengths: gapLengths, offsets: offsets, decoded: {} };
  }

  function postings(shard, index) {
    var cached = shard.decoded[index];
    if (cached) return cached;
    var df = shard.dfs[index];
    var reader = new Reader(shard.bytes);
    reader.pos = shard.offsets[index];
    var ids = new Uint32Array(df);
    var doc = 0;
    for (var k = 0; k < df; k++) {
      doc += reader.varint();
      ids[k] = doc;
    }
    if (reader.pos !== shard.offsets[index] + shard.gapLengths[index]) throw new Error("search postings are damaged");
    var result = { ids: ids, impacts: shard.bytes.subarray(reader.pos, reader.pos + df) };
    shard.decoded[index] = result;
    return result;
  }

  function lowerBound(terms, term) {
    var lo = 0;
    var hi = terms.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (compareTerms(terms[mid], term) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // --- Ranking --------------------------------------------------------------------------------------

  // Keeps the best `limit` documents: a min-heap ordered by (score, then higher id is worse).
  function TopK(limit) {
    this.limit = limit;
    this.ids = [];
    this.scores = [];
  }
  TopK.prototype.worse = function (i, j) {
    var a = this.scores[i];
    var b = this.scores[j];
    return a < b || (a === b && this.ids[i] > this.ids[j]);
  };
  TopK.prototype.swap = function (i, j) {
    var t = this.ids[i]; this.ids[i] = this.ids[j]; this.ids[j] = t;
    var s = this.scores[i]; this.scores[i] = this.scores[j]; this.scores[j] = s;
  };
  TopK.prototype.down = function (i) {
    var n = this.ids.length;
    for (;;) {
      var l = 2 * i + 1;
      var r = l + 1;
      var m = i;
      if (l < n && this.worse(l, m)) m = l;
      if (r < n && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  };
  TopK.prototype.offer = function (id, score) {
    if (this.ids.length < this.limit) {
      this.ids.push(id);
      this.scores.push(score);
      var i = this.ids.length - 1;
      while (i > 0) {
        var p = (i - 1) >> 1;
        if (!this.worse(i, p)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    var top = this.scores[0];
    if (score > top || (score === top && id < this.ids[0])) {
      this.ids[0] = id;
      this.scores[0] = score;
      this.down(0);
    }
  };
  TopK.prototype.sorted = function () {
    var out = this.ids.map(function (id, i) { return { id: id, score: this.scores[i] }; }, this);
    out.sort(function (a, b) { return b.score - a.score || a.id - b.id; });
    return out;
  };

  function create(meta, loadPayload, decompress) {
    if (!meta || meta.version !== 1) throw new Error("unsupported search index version");
    var docCount = meta.docs;
    var shardCache = {};
    var shardOrder = []; // shard numbers, least recently used first
    var langBytes = null;

    function unpack(bytes) {
      return meta.compression === "zstd" ? decompress(bytes) : bytes;
    }

    function shardName(index) {
      var digits = String(index);
      while (digits.length < meta.shard_digits) digits = "0" + digits;
      return meta.shard_prefix + digits;
    }

    // Loaded shards (and the postings decoded from them) are kept for the next keystroke, but
    // only the most recently used MAX_CACHED_SHARDS, so a long session stays small on a phone.
    function loadShard(index) {
      var at = shardOrder.indexOf(index);
      if (at >= 0) shardOrder.splice(at, 1);
      shardOrder.push(index);
      if (!shardCache[index]) {
        shardCache[index] = Promise.resolve(loadPayload(shardName(index))).then(function (bytes) {
          var shard = parseShard(unpack(bytes));
          shard.number = index;
          return shard;
        });
        shardCache[index].catch(function () {
          delete shardCache[index]; // a failed load may be retried by the next query
        });
      }
      var wanted = shardCache[index];
      while (shardOrder.length > MAX_CACHED_SHARDS) delete shardCache[shardOrder.shift()];
      return wanted;
    }

    function loadLangs() {
      if (!langBytes) {
        langBytes = Promise.resolve(loadPayload(meta.lang_payload)).then(unpack);
        langBytes.catch(function () { langBytes = null; });
      }
      return langBytes;
    }

    // Last shard whose first term is <= term; -1 when term sorts before every shard.
    function shardOf(term) {
      var lo = 0;
      var hi = meta.shards.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (compareTerms(meta.shards[mid], term) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    }

    function shardsFor(a) {
      var last = shardOf(a.hi);
      var first = Math.max(0, shardOf(a.lo));
      var list = [];
      for (var i = first; i <= last && list.length < MAX_SHARDS_PER_ALT; i++) list.push(i);
      return list;
    }

    // The terms an alternative expands to, most frequent first when there are too many.
    function termsFor(a, shardsByIndex) {
      var found = [];
      shardsFor(a).forEach(function (index) {
        var shard = shardsByIndex[index];
        for (var i = lowerBound(shard.terms, a.lo); i < shard.terms.length; i++) {
          if (compareTerms(shard.terms[i], a.hi) > 0) break;
          found.push({ shard: shard, index: i, df: shard.dfs[i] });
        }
      });
      if (found.length > MAX_TERMS_PER_ALT) {
        found.sort(function (x, y) { return y.df - x.df; });
        found.length = MAX_TERMS_PER_ALT;
      }
      return found;
    }

    // langs: one byte per article (search/lang) and wanted, the index of the language to keep.
    function score(slots, shardsByIndex, langs, wanted, limit) {
      var total = new Float64Array(docCount);
      var matched = new Uint8Array(docCount);
      var best = new Float64Array(docCount);
      var candidates = [];
      slots.forEach(function (slot) {
        var touched = [];
        // A term reached by several alternatives (하.. and 하..핳 overlap) is scored once, at
        // its best weight: same result, half the work on a first typed syllable.
        var terms = {};
        slot.forEach(function (a) {
          termsFor(a, shardsByIndex).forEach(function (t) {
            var key = t.shard.number + ":" + t.index;
            if (!terms[key] || terms[key].weight < a.weight) terms[key] = { term: t, weight: a.weight };
          });
        });
        Object.keys(terms).forEach(function (key) {
          var t = terms[key].term;
          var p = postings(t.shard, t.index);
          var idf = Math.log(1 + (docCount - t.df + 0.5) / (t.df + 0.5));
          var w = (terms[key].weight * idf) / IMPACT_SCALE;
          var ids = p.ids;
          var impacts = p.impacts;
          for (var k = 0; k < ids.length; k++) {
            var d = ids[k];
            if (d >= docCount) continue;
            var s = w * impacts[k];
            if (best[d] === 0) touched.push(d);
            if (s > best[d]) best[d] = s;
          }
        });
        for (var i = 0; i < touched.length; i++) {
          var d = touched[i];
          if (matched[d] === 0) candidates.push(d);
          total[d] += best[d];
          matched[d] += 1;
          best[d] = 0;
        }
      });
      var top = new TopK(limit);
      var slotCount = slots.length;
      for (var c = 0; c < candidates.length; c++) {
        var doc = candidates[c];
        if (langs && langs[doc] !== wanted) continue;
        // Documents matching more parts of the query rank first: coverage squared scales the sum.
        var coverage = matched[doc] / slotCount;
        top.offer(doc, total[doc] * coverage * coverage);
      }
      return top.sorted();
    }

    function search(query, options) {
      options = options || {};
      var limit = Math.max(1, Math.min(options.limit || 20, 10000));
      var slots = plan(String(query || ""));
      if (!slots.length || !meta.shards.length) return Promise.resolve([]);
      var needed = {};
      slots.forEach(function (slot) {
        slot.forEach(function (a) {
          shardsFor(a).forEach(function (i) { needed[i] = true; });
        });
      });
      var indexes = Object.keys(needed).map(Number);
      var wantedLang = options.lang ? meta.langs.indexOf(options.lang) : -1;
      if (options.lang && wantedLang < 0) return Promise.resolve([]);
      var loads = indexes.map(loadShard);
      loads.push(options.lang ? loadLangs() : Promise.resolve(null));
      return Promise.all(loads).then(function (loaded) {
        var langs = loaded.pop();
        var shardsByIndex = {};
        indexes.forEach(function (index, k) { shardsByIndex[index] = loaded[k]; });
        return score(slots, shardsByIndex, langs, wantedLang, limit);
      });
    }

    // --- title suggestions (FORMAT.md 9.6): one small file per keystroke --------------------------
    var sg = meta.suggest;
    var suggestCache = {}; // file name -> parsed JSON, the most recent MAX_CACHED_SUGGEST kept
    var suggestOrder = [];
    var utf8 = new TextDecoder("utf-8");

    function loadSuggestFile(name) {
      var at = suggestOrder.indexOf(name);
      if (at >= 0) suggestOrder.splice(at, 1);
      suggestOrder.push(name);
      if (!suggestCache[name]) {
        suggestCache[name] = Promise.resolve(loadPayload(name)).then(function (bytes) {
          return JSON.parse(utf8.decode(unpack(bytes)));
        });
        suggestCache[name].catch(function () { delete suggestCache[name]; });
      }
      var wanted = suggestCache[name];
      while (suggestOrder.length > MAX_CACHED_SUGGEST) delete suggestCache[suggestOrder.shift()];
      return wanted;
    }

    // Last index whose first key is <= key (the lists start with "" or are empty).
    function lastAtOrBefore(list, key) {
      var lo = 0;
      var hi = list.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (compareTerms(list[mid], key) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    }

    function padded(number, digits) {
      var text = String(number);
      while (text.length < digits) text = "0" + text;
      return text;
    }

    /* Entries [key, text, slug, lang, word, priority, title?] whose key starts with the route:
     * from the one shard holding them, or, when they span shards, from the prefix's head list. */
    function suggestRows(route) {
      var at = Math.max(0, lastAtOrBefore(sg.shards, route));
      var next = sg.shards[at + 1];
      if (next !== undefined && next.slice(0, route.length) === route) {
        var chunk = lastAtOrBefore(sg.heads, route);
        if (chunk < 0) return Promise.resolve([]);
        return loadSuggestFile(sg.head_prefix + padded(chunk, sg.head_digits)).then(function (heads) {
          return Object.prototype.hasOwnProperty.call(heads, route) ? heads[route] : [];
        });
      }
      return loadSuggestFile(sg.shard_prefix + padded(at, sg.shard_digits)).then(function (rows) {
        return rows.filter(function (row) { return row[0].slice(0, route.length) === route; });
      });
    }

    /* The first `limit` titles (or aliases) for what is typed: {text, slug, lang, title}, best
     * first, one per article, each matching the query by the search's rules (covers). */
    function suggest(query, limit) {
      var slots = plan(String(query || ""));
      if (!sg || !sg.shards.length || !slots.length) return Promise.resolve([]);
      var route = suggestRoute(query, sg.key_chars);
      return suggestRows(route).then(function (rows) {
        var found = rows.map(function (row, index) { return { row: row, index: index }; })
          .filter(function (item) { return coversPlan(item.row[1], slots); });
        found.sort(function (a, b) {
          var x = a.row;
          var y = b.row;
          return (x[4] > 0) - (y[4] > 0) || (x.length > 6) - (y.length > 6) || y[5] - x[5] ||
            x[1].length - y[1].length || a.index - b.index;
        });
        var seen = {};
        var out = [];
        for (var i = 0; i < found.length && out.length < limit; i++) {
          var row = found[i].row;
          if (seen[row[2]]) continue;
          seen[row[2]] = true;
          out.push({ text: row[1], slug: row[2], lang: row[3], title: row.length > 6 ? row[6] : row[1] });
        }
        return out;
      });
    }

    /* The head files hold what the first keystrokes need (short prefixes) and are small (about 20 KB
     * in all at 100,000 articles): read them when the search box gets focus, before the typing. */
    function readSuggestionHeads() {
      if (!sg || sg.heads.length > MAX_HEADS_READ_AHEAD) return;
      for (var i = 0; i < sg.heads.length; i++) {
        loadSuggestFile(sg.head_prefix + padded(i, sg.head_digits)).then(null, function () {});
      }
    }

    return { search: search, plan: plan, suggest: sg ? suggest : null, readSuggestionHeads: readSuggestionHeads };
  }

  // --- Highlighting and snippets ----------------------------------------------------------------------

  function classOf(code, ch) {
    if (code >= SYLLABLE_FIRST && code <= SYLLABLE_LAST) return 1;
    if (code >= 0x3131 && code <= 0x318e) return 2;
    if ((code >= 0x3040 && code <= 0x30ff) || (code >= 0x3400 && code <= 0x4dbf) || (code >= 0x4e00 && code <= 0x9fff)) return 3;
    return WORD_CHAR_RE.test(ch) ? 4 : 0;
  }

  // The text folded unit by unit as the tokenizer sees it, with each unit's source span.
  function foldForMatching(text) {
    var folded = [];
    var classes = [];
    var starts = [];
    var ends = [];
    var i = 0;
    while (i < text.length) {
      var code = text.codePointAt(i);
      var ch = String.fromCodePoint(code);
      var cls = classOf(code, ch);
      var out = cls === 1 ? String.fromCharCode(initialSound(code)) : cls === 4 ? foldWord(ch) : cls ? ch : " ";
      for (var k = 0; k < out.length; k++) {
        folded.push(out.charAt(k));
        classes.push(cls);
        starts.push(i);
        ends.push(i + ch.length);
      }
      i += ch.length;
    }
    return { text: folded.join(""), classes: classes, starts: starts, ends: ends, source: text };
  }

  function choseongOf(code) {
    if (code < SYLLABLE_FIRST || code > SYLLABLE_LAST) return "";
    return CHOSEONG.charAt(Math.floor((code - SYLLABLE_FIRST) / (VOWELS * FINALS)));
  }

  // Spans [start, end) of the folded text that one plan alternative matches.
  function altSpans(f, a, spans) {
    var prefix = a.hi.length === a.lo.length + RANGE_END.length && a.hi.slice(-RANGE_END.length) === RANGE_END;
    var hi = prefix ? a.hi.slice(0, -RANGE_END.length) : a.hi;
    var lo = a.lo;
    if (!lo || lo.length !== hi.length) return;
    var firstCode = lo.charCodeAt(0);
    var wordLike = classOf(firstCode, String.fromCodePoint(lo.codePointAt(0))) === 4;
    var isChoseong = lo === hi && lo.length === 2 && allChoseong(lo);
    var text = f.text;
    for (var p = 0; p + lo.length <= text.length; p++) {
      var ok = true;
      for (var k = 0; k < lo.length && ok; k++) {
        var c = text.charCodeAt(p + k);
        ok = c >= lo.charCodeAt(k) && c <= hi.charCodeAt(k);
      }
      if (!ok && isChoseong) {
        ok = choseongOf(f.source.charCodeAt(f.starts[p])) === lo.charAt(0) &&
          f.classes[p + 1] === 1 && choseongOf(f.source.charCodeAt(f.starts[p + 1])) === lo.charAt(1);
      }
      if (!ok) continue;
      var end = p + lo.length;
      if (wordLike) {
        if (p > 0 && f.classes[p - 1] === 4) continue; // words match from their start only
        if (!prefix && end < text.length && f.classes[end] === 4 && lo !== hi) continue;
        while (end < text.length && f.classes[end] === 4) end++; // show the whole word
      }
      spans.push([f.starts[p], f.ends[end - 1]]);
    }
  }

  function matchSpans(text, query) {
    var f = foldForMatching(text);
    var spans = [];
    plan(query).forEach(function (slot) {
      slot.forEach(function (a) { altSpans(f, a, spans); });
    });
    spans.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; });
    var merged = [];
    spans.forEach(function (s) {
      var last = merged[merged.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else merged.push([s[0], s[1]]);
    });
    return merged;
  }

  // True when every part of the query matches somewhere in the text, by the same rules as the
  // highlighting (so 초성 and a half-typed last syllable count): the viewer's title suggestions.
  function covers(text, query) {
    return coversPlan(text, plan(String(query || "")));
  }

  function coversPlan(text, slots) {
    if (!slots.length) return false;
    var f = foldForMatching(String(text || "").normalize("NFC"));
    return slots.every(function (slot) {
      var spans = [];
      slot.forEach(function (a) { altSpans(f, a, spans); });
      return spans.length > 0;
    });
  }

  // Pieces of the (NFC) text with the query's matches marked; render each with textContent.
  function highlight(text, query) {
    var source = String(text || "").normalize("NFC");
    var pieces = [];
    var pos = 0;
    matchSpans(source, String(query || "")).forEach(function (s) {
      if (s[0] > pos) pieces.push({ text: source.slice(pos, s[0]), match: false });
      pieces.push({ text: source.slice(s[0], s[1]), match: true });
      pos = s[1];
    });
    if (pos < source.length) pieces.push({ text: source.slice(pos), match: false });
    return pieces;
  }

  function safeCut(text, index) {
    // Never split a surrogate pair.
    var code = text.charCodeAt(index);
    return code >= 0xdc00 && code <= 0xdfff ? index + 1 : index;
  }

  // The window of at most maxChars (plus ellipses) that shows the most matches.
  function snippet(text, query, maxChars) {
    var source = String(text || "").normalize("NFC").replace(/\s+/g, " ").trim();
    maxChars = Math.max(1, maxChars || 200);
    if (source.length <= maxChars) return source;
    var spans = matchSpans(source, String(query || ""));
    var start = 0;
    var bestCount = -1;
    spans.forEach(function (s) {
      var from = Math.max(0, s[0] - Math.floor(maxChars / 4));
      var count = 0;
      spans.forEach(function (t) { if (t[0] >= from && t[1] <= from + maxChars) count++; });
      if (count > bestCount) {
        bestCount = count;
        start = from;
      }
    });
    start = Math.min(start, source.length - maxChars);
    if (start > 0) {
      var space = source.indexOf(" ", start);
      var firstMatch = spans.length ? spans[0][0] : source.length;
      spans.forEach(function (s) { if (s[0] >= start && s[0] < firstMatch) firstMatch = s[0]; });
      if (space >= 0 && space < start + 15 && space < firstMatch) start = space + 1;
    }
    start = safeCut(source, start);
    var end = Math.min(source.length, start + maxChars);
    if (end < source.length) {
      var back = source.lastIndexOf(" ", end);
      if (back > start + maxChars * 0.6) end = back;
      end = safeCut(source, end) === end ? end : end - 1;
    }
    return (start > 0 ? "…" : "") + source.slice(start, end).trim() + (end < source.length ? "…" : "");
  }

  return {
    create: create,
    tokenize: tokenize,
    plan: plan,
    highlight: highlight,
    snippet: snippet,
    covers: covers,
    suggestKey: suggestKey,
    suggestRoute: suggestRoute,
    compareTerms: compareTerms
  };
})();
