/* infopack zstd decoder: a Zstandard (RFC 8878) decompressor in plain JavaScript.
 *
 * Loaded as a classic script (it must work from file://, where modules and fetch do not), it
 * defines exactly one global, InfopackZstd, with two functions:
 *   InfopackZstd.prepareDictionary(bytes) -> dictionary object, parsed once, reusable for many frames
 *   InfopackZstd.decompress(src, dict?)   -> Uint8Array of all frames in src, concatenated
 * Any malformed input throws an Error whose message starts with "zstd: ".
 *
 * Written for speed in V8 and SpiderMonkey: 32-bit integer arithmetic, typed-array tables,
 * no closures or allocations inside the per-symbol and per-sequence loops.
 */
var InfopackZstd = (function () {
  'use strict';

  var FRAME_MAGIC = 0xfd2fb528;
  var DICT_MAGIC = 0xec30a437;
  var SKIPPABLE_MASK = 0xfffffff0;
  var SKIPPABLE_MAGIC = 0x184d2a50;
  // Matches longer than this (and not overlapping their source) use copyWithin.
  var MATCH_BUILTIN_MIN = 24;
  var BLOCK_MAX = 131072; // 128 KiB: the format's cap on a block's decompressed size
  // Beyond this a JS engine may refuse the allocation; content sizes above it are rejected.
  var MAX_OUTPUT = 0x7fffffff;

  function fail(message) {
    throw new Error('zstd: ' + message);
  }

  function highBit(n) {
    return 31 - Math.clz32(n);
  }

  function readLE32(src, pos) {
    return (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>> 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Code tables (RFC 8878 section 3.1.1.3.2.1.1): literal and match length codes map to a
  // baseline plus a number of extra bits read from the sequence bitstream.

  var LL_BASE = new Int32Array([
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64,
    128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
  var LL_EXTRA = new Uint8Array([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 16]);
  var ML_BASE = new Int32Array(53);
  var ML_EXTRA = new Uint8Array(53);
  (function fillMatchLengthCodes() {
    var extra = [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    var code;
    for (code = 0; code < 32; code++) ML_BASE[code] = code + 3;
    var base = 35;
    for (code = 32; code < 53; code++) {
      ML_BASE[code] = base;
      ML_EXTRA[code] = extra[code - 32];
      base += 1 << extra[code - 32];
    }
  })();
  // Offset codes: the value is (1 << code) + code extra bits; both derive from the code itself.
  var OF_BASE = new Int32Array(32);
  var OF_EXTRA = new Uint8Array(32);
  (function fillOffsetCodes() {
    for (var code = 0; code < 31; code++) {
      OF_BASE[code] = 1 << code;
      OF_EXTRA[code] = code;
    }
  })();
  // Offset code 31 needs a 2 GiB window, more than a typed array here can hold: tables using it are
  // rejected when built, so the sequence loop never meets it.
  var UNSUPPORTED_OFFSET_CODE = 'offset code 31 (2 GiB window) is not supported';

  // Predefined distributions (RFC 8878 section 3.1.1.3.2.2).
  var LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2,
    1, 1, 1, 1, 1, -1, -1, -1, -1];
  var ML_DEFAULT = [1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1];
  var OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
    -1, -1, -1];

  // Per symbol kind: largest symbol and largest accuracy log a table description may use.
  var LL_KIND = { name: 'literal length', maxSymbol: 35, maxLog: 9, base: LL_BASE, extra: LL_EXTRA };
  var ML_KIND = { name: 'match length', maxSymbol: 52, maxLog: 9, base: ML_BASE, extra: ML_EXTRA };
  var OF_KIND = { name: 'offset', maxSymbol: 31, maxLog: 8, base: OF_BASE, extra: OF_EXTRA };

  // ---------------------------------------------------------------------------------------------
  // FSE (RFC 8878 section 4.1)

  /* Reads an FSE table description (section 4.1.1) at src[pos..end) into `counts` (normalized
   * counts, zero beyond the last symbol). Returns the number of symbols; sets descLog/descSize. */
  var descLog = 0;
  var descSize = 0;
  function readFseDescription(src, pos, end, counts, maxSymbol, maxLog, what) {
    var start = pos;
    var bitPos = 0; // bits consumed from src[start]
    var bytePos, word;
    // Every field is at most 10 bits; three bytes from bytePos always cover it.
    bytePos = start;
    if (bytePos >= end) fail(what + ' table description is truncated');
    word = src[bytePos] | (src[bytePos + 1] << 8) | (src[bytePos + 2] << 16);
    var log = (word & 15) + 5;
    bitPos = 4;
    if (log > maxLog) fail(what + ' accuracy log ' + log + ' exceeds ' + maxLog);
    counts.fill(0, 0, maxSymbol + 1);
    var remaining = (1 << log) + 1;
    var threshold = 1 << log;
    var nbBits = log + 1;
    var symbol = 0;
    while (remaining > 1) {
      if (symbol > maxSymbol) fail(what + ' table description has too many symbols');
      bytePos = start + (bitPos >>> 3);
      if (bytePos >= end) fail(what + ' table description is truncated');
      word = (src[bytePos] | (src[bytePos + 1] << 8) | (src[bytePos + 2] << 16)) >>> (bitPos & 7);
      var max = 2 * threshold - 1 - remaining;
      var value = word & (threshold - 1);
      if (value < max) {
        bitPos += nbBits - 1;
      } else {
        value = word & (2 * threshold - 1);
        if (value >= threshold) value -= max;
        bitPos += nbBits;
      }
      var count = value - 1;
      remaining -= count < 0 ? -count : count;
      counts[symbol++] = count;
      if (count === 0) {
        // A zero probability is followed by 2-bit repeat flags for further zero-probability symbols.
        for (;;) {
          bytePos = start + (bitPos >>> 3);
          if (bytePos >= end) fail(what + ' table description is truncated');
          var repeat = ((src[bytePos] | (src[bytePos + 1] << 8)) >>> (bitPos & 7)) & 3;
          bitPos += 2;
          symbol += repeat;
          if (repeat !== 3) break;
          if (symbol > maxSymbol + 1) break;
        }
        if (symbol > maxSymbol + 1) fail(what + ' table description has too many symbols');
      }
      while (remaining < threshold) {
        nbBits--;
        threshold >>= 1;
      }
    }
    if (remaining !== 1) fail(what + ' table description has probabilities that do not add up');
    var size = (bitPos + 7) >>> 3;
    if (start + size > end) fail(what + ' table description is truncated');
    descLog = log;
    descSize = size;
    return symbol;
  }

  /* A decoding table for sequence codes. info[state] packs what the sequence loop needs:
   * next state base | FSE bits << 16 | extra bits << 24; base[state] is the symbol's baseline
   * (looked up once here rather than per sequence). */
  function SeqTable(capacityLog) {
    var size = 1 << capacityLog;
    this.log = 0;
    this.base = new Int32Array(size); // Int32, not Uint32: keeps V8 on small-integer arithmetic
    this.info = new Int32Array(size);
    this.symbol = new Uint8Array(size);
  }

  var spreadCount = new Uint16Array(256);

  /* Builds the decoding table for normalized `counts` into `table` (a fresh one if null). */
  function buildFseTable(counts, symbolCount, log, kind, table) {
    var size = 1 << log;
    if (table === null) table = new SeqTable(log);
    table.log = log;
    var symbolOf = table.symbol;
    var nextCount = spreadCount;
    var high = size - 1;
    var s;
    // "Less than 1" probability symbols take one cell each at the top of the table.
    for (s = 0; s < symbolCount; s++) {
      if (counts[s] === -1) {
        symbolOf[high--] = s;
        nextCount[s] = 1;
      }
    }
    var step = (size >>> 1) + (size >>> 3) + 3;
    var mask = size - 1;
    var pos = 0;
    for (s = 0; s < symbolCount; s++) {
      var c = counts[s];
      if (c <= 0) continue;
      nextCount[s] = c;
      for (var i = 0; i < c; i++) {
        symbolOf[pos] = s;
        do pos = (pos + step) & mask; while (pos > high);
      }
    }
    if (pos !== 0) fail(kind.name + ' table cannot be built from its distribution');
    if (kind === OF_KIND && symbolCount > 31 && counts[31] !== 0) fail(UNSUPPORTED_OFFSET_CODE);
    var base = table.base, info = table.info, kindBase = kind.base, kindExtra = kind.extra;
    for (var state = 0; state < size; state++) {
      var sym = symbolOf[state];
      var n = nextCount[sym]++;
      var bits = log - highBit(n);
      base[state] = kindBase[sym];
      info[state] = ((n << bits) - size) | (bits << 16) | (kindExtra[sym] << 24);
    }
    return table;
  }

  function rleTable(symbol, kind) {
    if (symbol > kind.maxSymbol) fail(kind.name + ' RLE symbol ' + symbol + ' is out of range');
    if (kind === OF_KIND && symbol === 31) fail(UNSUPPORTED_OFFSET_CODE);
    var table = new SeqTable(0);
    table.symbol[0] = symbol;
    table.base[0] = kind.base[symbol];
    table.info[0] = kind.extra[symbol] << 24;
    return table;
  }

  function countsOf(list) {
    return new Int16Array(list);
  }

  var LL_PREDEFINED = buildFseTable(countsOf(LL_DEFAULT), 36, 6, LL_KIND, null);
  var ML_PREDEFINED = buildFseTable(countsOf(ML_DEFAULT), 53, 6, ML_KIND, null);
  var OF_PREDEFINED = buildFseTable(countsOf(OF_DEFAULT), 29, 5, OF_KIND, null);
  // Tables read from a block are only ever reused by later blocks of the same frame ("repeat"
  // mode), and only the latest one per kind: one scratch table per kind is enough. Tables of a
  // dictionary and the predefined ones are separate objects and never overwritten.
  var scratchCounts = new Int16Array(256);
  LL_KIND.scratch = new SeqTable(9);
  ML_KIND.scratch = new SeqTable(9);
  OF_KIND.scratch = new SeqTable(8);

  // ---------------------------------------------------------------------------------------------
  // Backward bitstreams (section 4.1 / 4.2): read from the last byte towards the first; the last
  // byte's highest set bit marks where data begins. Hot loops inline this logic; this small
  // reader serves the cold paths (Huffman weights, initial states).

  function BackReader(src, start, end, what) {
    if (end <= start) fail(what + ' bitstream is empty');
    var last = src[end - 1];
    if (last === 0) fail(what + ' bitstream has no end marker');
    this.src = src;
    this.start = start;
    this.pos = end - 1; // bytes before pos are not yet in acc
    this.bits = highBit(last); // unread bits held in the low end of acc
    this.acc = last & ((1 << this.bits) - 1);
    this.what = what;
  }
  BackReader.prototype.refill = function () {
    while (this.bits <= 24 && this.pos > this.start) {
      this.acc = (this.acc << 8) | this.src[--this.pos];
      this.bits += 8;
    }
  };
  // Reads n (<= 24) bits; past the start of the stream it reads zeros and leaves bits negative.
  BackReader.prototype.read = function (n) {
    if (this.bits < n) this.refill();
    var value;
    if (this.bits >= n) {
      value = (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
    } else if (this.bits > 0) {
      value = (this.acc << (n - this.bits)) & ((1 << n) - 1);
    } else {
      value = 0;
    }
    this.bits -= n;
    return value;
  };
  BackReader.prototype.overflowed = function () {
    return this.bits < 0;
  };

  // ---------------------------------------------------------------------------------------------
  // Huffman literals (section 4.2)

  /* A Huffman decoding table: table[v] for the next maxBits bits v holds (symbol << 4) | code
   * length. `size` is the length of the tree description it was read from. */
  function HuffmanTable() {
    this.table = new Uint16Array(1 << 11);
    this.maxBits = 0;
    this.size = 0;
  }

  // As with sequence tables, only the latest tree of a frame is ever reused (treeless literals).
  var blockHuffman = new HuffmanTable();
  var scratchWeights = new Uint8Array(258);
  var rankStart = new Int32Array(13);

  /* Reads a Huffman tree description at src[pos..end) into the shared block table, or into a
   * fresh one (for dictionaries, whose tables must outlive every frame). */
  function readHuffmanTree(src, pos, end, fresh) {
    if (pos >= end) fail('Huffman tree description is truncated');
    var header = src[pos];
    var weights = scratchWeights;
    var count; // number of weights stored; the last symbol's weight is implied
    var size;
    if (header >= 128) {
      count = header - 127;
      size = 1 + ((count + 1) >>> 1);
      if (pos + size > end) fail('Huffman tree description is truncated');
      for (var i = 0; i < count; i++) {
        var byte = src[pos + 1 + (i >>> 1)];
        weights[i] = (i & 1) === 0 ? byte >>> 4 : byte & 15;
      }
    } else {
      size = 1 + header;
      if (pos + size > end) fail('Huffman tree description is truncated');
      count = readFseWeights(src, pos + 1, pos + size, weights);
    }
    return buildHuffmanTable(weights, count, size, fresh ? new HuffmanTable() : blockHuffman);
  }

  // Huffman weights compressed with FSE: two interleaved states share one table (section 4.2.1.2).
  function readFseWeights(src, start, end, weights) {
    var symbols = readFseDescription(src, start, end, scratchCounts, 255, 6, 'Huffman weight');
    var log = descLog;
    var table = buildFseTable(scratchCounts, symbols, log, WEIGHT_KIND, WEIGHT_KIND.scratch);
    var reader = new BackReader(src, start + descSize, end, 'Huffman weight');
    var symbol = table.symbol;
    var info = table.info;
    var state1 = reader.read(log);
    var state2 = reader.read(log);
    if (reader.overflowed()) fail('Huffman weight bitstream is too short');
    var count = 0;
    for (;;) {
      // weights has room for 255 stored weights, the implied last one and two of slack.
      if (count > 255) fail('Huffman weights describe too many symbols');
      weights[count++] = symbol[state1];
      state1 = (info[state1] & 0xffff) + reader.read((info[state1] >>> 16) & 255);
      if (reader.overflowed()) {
        weights[count++] = symbol[state2];
        break;
      }
      weights[count++] = symbol[state2];
      state2 = (info[state2] & 0xffff) + reader.read((info[state2] >>> 16) & 255);
      if (reader.overflowed()) {
        weights[count++] = symbol[state1];
        break;
      }
    }
    if (count > 255) fail('Huffman weights describe too many symbols');
    return count;
  }

  // Weight tables reuse buildFseTable; baselines do not matter there, any symbol up to 255 is fine.
  var WEIGHT_KIND = { name: 'Huffman weight', maxSymbol: 255, maxLog: 6,
    base: new Int32Array(256), extra: new Uint8Array(256), scratch: new SeqTable(6) };

  function buildHuffmanTable(weights, count, size, huf) {
    var total = 0;
    var i;
    for (i = 0; i < count; i++) {
      var w = weights[i];
      if (w > 11) fail('Huffman weight ' + w + ' is too large');
      if (w > 0) total += 1 << (w - 1);
    }
    if (total === 0) fail('Huffman tree has no symbols');
    var maxBits = highBit(total) + 1;
    if (maxBits > 11) fail('Huffman codes are longer than 11 bits');
    var rest = (1 << maxBits) - total;
    if ((rest & (rest - 1)) !== 0) fail('Huffman weights do not form a complete tree');
    weights[count] = highBit(rest) + 1;
    var symbols = count + 1;
    // Codes are assigned by increasing weight, then by symbol: each weight-w symbol owns
    // 2^(w-1) consecutive cells of the table.
    rankStart.fill(0);
    for (i = 0; i < symbols; i++) if (weights[i] > 0) rankStart[weights[i] + 1] += 1 << (weights[i] - 1);
    for (i = 2; i < 13; i++) rankStart[i] += rankStart[i - 1];
    var table = huf.table;
    for (i = 0; i < symbols; i++) {
      var weight = weights[i];
      if (weight === 0) continue;
      var entry = (i << 4) | (maxBits + 1 - weight);
      var at = rankStart[weight];
      var stop = at + (1 << (weight - 1));
      while (at < stop) table[at++] = entry;
      rankStart[weight] = stop;
    }
    huf.maxBits = maxBits;
    huf.size = size;
    return huf;
  }

  // A Huffman stream is read backwards from its last byte, whose highest set bit marks the start.
  function streamLastByte(src, start, end) {
    if (end <= start) fail('Huffman stream is empty');
    var last = src[end - 1];
    if (last === 0) fail('Huffman stream has no end marker');
    return last;
  }

  /* Decodes one Huffman stream src[start..end) into out[op..opEnd). */
  function decodeHuffmanStream(src, start, end, out, op, opEnd, huf) {
    var last = streamLastByte(src, start, end);
    finishHuffmanStream(src, start, end - 1, last, highBit(last), out, op, opEnd, huf);
  }

  /* Decodes into out[op..opEnd) from a stream whose unread bits are the low `bits` bits of acc
   * followed by the bytes src[start..pos), and checks that the stream ends exactly there. */
  function finishHuffmanStream(src, start, pos, acc, bits, out, op, opEnd, huf) {
    var table = huf.table;
    var maxBits = huf.maxBits;
    var mask = (1 << maxBits) - 1;
    var entry;
    while (op < opEnd) {
      if (bits < maxBits) {
        while (bits <= 24 && pos > start) {
          acc = (acc << 8) | src[--pos];
          bits += 8;
        }
        if (bits < maxBits) {
          // The stream's first bits: pad the lookup with zeros, as the encoder did.
          entry = table[(acc << (maxBits - bits)) & mask];
          if ((entry & 15) > bits) fail('Huffman stream is corrupted (read past its start)');
          out[op++] = entry >>> 4;
          bits -= entry & 15;
          continue;
        }
      }
      entry = table[(acc >>> (bits - maxBits)) & mask];
      out[op++] = entry >>> 4;
      bits -= entry & 15;
    }
    if (bits !== 0 || pos !== start) fail('Huffman stream is corrupted (wrong length)');
  }

  /* The four streams of a literals section (starting at s1..s4, the last ending at `end`), two
   * symbols from each per round while all four have the bits at hand: four independent chains
   * of table lookups keep the CPU busier than one stream at a time. Each stream then finishes
   * on its own. */
  function decodeFourStreams(src, s1, s2, s3, s4, end, out, segment, regen, huf) {
    var table = huf.table;
    var maxBits = huf.maxBits;
    var mask = (1 << maxBits) - 1;
    var twice = 2 * maxBits; // at most 22: a refilled container (25+ bits) always has it
    var a1 = streamLastByte(src, s1, s2), a2 = streamLastByte(src, s2, s3);
    var a3 = streamLastByte(src, s3, s4), a4 = streamLastByte(src, s4, end);
    var b1 = highBit(a1), b2 = highBit(a2), b3 = highBit(a3), b4 = highBit(a4);
    var p1 = s2 - 1, p2 = s3 - 1, p3 = s4 - 1, p4 = end - 1;
    var o1 = 0, o2 = segment, o3 = 2 * segment, o4 = 3 * segment;
    var e;
    // Stream 4 is the shortest, so while it has two symbols to go, all of them do.
    while (o4 + 2 <= regen) {
      while (b1 <= 24 && p1 > s1) { a1 = (a1 << 8) | src[--p1]; b1 += 8; }
      while (b2 <= 24 && p2 > s2) { a2 = (a2 << 8) | src[--p2]; b2 += 8; }
      while (b3 <= 24 && p3 > s3) { a3 = (a3 << 8) | src[--p3]; b3 += 8; }
      while (b4 <= 24 && p4 > s4) { a4 = (a4 << 8) | src[--p4]; b4 += 8; }
      if (b1 < twice || b2 < twice || b3 < twice || b4 < twice) break;
      e = table[(a1 >>> (b1 - maxBits)) & mask]; out[o1++] = e >>> 4; b1 -= e & 15;
      e = table[(a2 >>> (b2 - maxBits)) & mask]; out[o2++] = e >>> 4; b2 -= e & 15;
      e = table[(a3 >>> (b3 - maxBits)) & mask]; out[o3++] = e >>> 4; b3 -= e & 15;
      e = table[(a4 >>> (b4 - maxBits)) & mask]; out[o4++] = e >>> 4; b4 -= e & 15;
      e = table[(a1 >>> (b1 - maxBits)) & mask]; out[o1++] = e >>> 4; b1 -= e & 15;
      e = table[(a2 >>> (b2 - maxBits)) & mask]; out[o2++] = e >>> 4; b2 -= e & 15;
      e = table[(a3 >>> (b3 - maxBits)) & mask]; out[o3++] = e >>> 4; b3 -= e & 15;
      e = table[(a4 >>> (b4 - maxBits)) & mask]; out[o4++] = e >>> 4; b4 -= e & 15;
    }
    finishHuffmanStream(src, s1, p1, a1, b1, out, o1, segment, huf);
    finishHuffmanStream(src, s2, p2, a2, b2, out, o2, 2 * segment, huf);
    finishHuffmanStream(src, s3, p3, a3, b3, out, o3, 3 * segment, huf);
    finishHuffmanStream(src, s4, p4, a4, b4, out, o4, regen, huf);
  }

  // ---------------------------------------------------------------------------------------------
  // Decoding state shared by the blocks of one frame.

  function FrameState(dict) {
    this.huf = null;
    this.llTable = null;
    this.ofTable = null;
    this.mlTable = null;
    this.rep0 = 1;
    this.rep1 = 4;
    this.rep2 = 8;
    if (dict) {
      this.huf = dict.huf;
      this.llTable = dict.llTable;
      this.ofTable = dict.ofTable;
      this.mlTable = dict.mlTable;
      this.rep0 = dict.reps[0];
      this.rep1 = dict.reps[1];
      this.rep2 = dict.reps[2];
    }
    // Where this block's literals are: either a scratch buffer or, for raw literals, the input.
    this.litBuf = null;
    this.litPos = 0;
    this.litEnd = 0;
  }

  var literalScratch = new Uint8Array(BLOCK_MAX);

  /* Literals section (section 3.1.1.3.1). Returns the position just after it. */
  function readLiterals(src, pos, end, state) {
    var b0 = src[pos];
    var type = b0 & 3;
    var sizeFormat = (b0 >>> 2) & 3;
    var regen, compressed, headerSize, streams;
    if (type < 2) {
      if ((sizeFormat & 1) === 0) {
        headerSize = 1;
        regen = b0 >>> 3;
      } else if (sizeFormat === 1) {
        headerSize = 2;
        if (pos + 2 > end) fail('literals header is truncated');
        regen = (b0 >>> 4) | (src[pos + 1] << 4);
      } else {
        headerSize = 3;
        if (pos + 3 > end) fail('literals header is truncated');
        regen = (b0 >>> 4) | (src[pos + 1] << 4) | (src[pos + 2] << 12);
      }
      if (regen > BLOCK_MAX) fail('literals section is larger than a block');
      pos += headerSize;
      if (type === 0) {
        if (pos + regen > end) fail('raw literals are truncated');
        state.litBuf = src;
        state.litPos = pos;
        state.litEnd = pos + regen;
        return pos + regen;
      }
      if (pos + 1 > end) fail('RLE literals are truncated');
      literalScratch.fill(src[pos], 0, regen);
      state.litBuf = literalScratch;
      state.litPos = 0;
      state.litEnd = regen;
      return pos + 1;
    }
    // Huffman-coded literals, with a new tree (type 2) or the previous one (type 3, treeless).
    if (sizeFormat < 2) {
      headerSize = 3;
      if (pos + 3 > end) fail('literals header is truncated');
      var v3 = b0 | (src[pos + 1] << 8) | (src[pos + 2] << 16);
      regen = (v3 >>> 4) & 0x3ff;
      compressed = (v3 >>> 14) & 0x3ff;
      streams = sizeFormat === 0 ? 1 : 4;
    } else if (sizeFormat === 2) {
      headerSize = 4;
      if (pos + 4 > end) fail('literals header is truncated');
      var v4 = readLE32(src, pos);
      regen = (v4 >>> 4) & 0x3fff;
      compressed = v4 >>> 18;
      streams = 4;
    } else {
      headerSize = 5;
      if (pos + 5 > end) fail('literals header is truncated');
      var v5 = readLE32(src, pos);
      regen = (v5 >>> 4) & 0x3ffff;
      compressed = (v5 >>> 22) | (src[pos + 4] << 10);
      streams = 4;
    }
    if (regen > BLOCK_MAX) fail('literals section is larger than a block');
    pos += headerSize;
    var sectionEnd = pos + compressed;
    if (sectionEnd > end) fail('compressed literals are truncated');
    if (type === 2) {
      var huf = readHuffmanTree(src, pos, sectionEnd, false);
      state.huf = huf;
      pos += huf.size;
    } else if (state.huf === null) {
      fail('treeless literals without a previous Huffman table');
    }
    var out = literalScratch;
    if (streams === 1) {
      decodeHuffmanStream(src, pos, sectionEnd, out, 0, regen, state.huf);
    } else {
      if (pos + 6 > sectionEnd) fail('literals jump table is truncated');
      var size1 = src[pos] | (src[pos + 1] << 8);
      var size2 = src[pos + 2] | (src[pos + 3] << 8);
      var size3 = src[pos + 4] | (src[pos + 5] << 8);
      var s1 = pos + 6;
      var s2 = s1 + size1;
      var s3 = s2 + size2;
      var s4 = s3 + size3;
      if (s4 >= sectionEnd) fail('literals jump table points past the section');
      var segment = (regen + 3) >>> 2;
      if (3 * segment > regen) fail('too few literals for four streams');
      decodeFourStreams(src, s1, s2, s3, s4, sectionEnd, out, segment, regen, state.huf);
    }
    state.litBuf = out;
    state.litPos = 0;
    state.litEnd = regen;
    return sectionEnd;
  }

  /* Chooses one of the three sequence tables per its compression mode. Returns new position. */
  function readSeqTable(mode, src, pos, end, state, kind, slot, predefined, fresh) {
    if (mode === 0) {
      state[slot] = predefined;
      return pos;
    }
    if (mode === 1) {
      if (pos >= end) fail(kind.name + ' RLE symbol is missing');
      state[slot] = rleTable(src[pos], kind);
      return pos + 1;
    }
    if (mode === 2) {
      var symbols = readFseDescription(src, pos, end, scratchCounts, kind.maxSymbol, kind.maxLog, kind.name);
      state[slot] = buildFseTable(scratchCounts, symbols, descLog, kind, fresh ? null : kind.scratch);
      return pos + descSize;
    }
    if (state[slot] === null) fail(kind.name + ' table repeated but none was defined');
    return pos;
  }

  /* Copies n bytes one at a time, in order, unrolled by four. Short copies are cheaper this way
   * than a builtin call, and when dst === src with `from` less than n bytes behind `to` (a match
   * overlapping its own output) the forward order repeats the pattern as the format requires. */
  function copyForward(dst, to, src, from, n) {
    var stop = to + n;
    while (to + 4 <= stop) {
      dst[to] = src[from];
      dst[to + 1] = src[from + 1];
      dst[to + 2] = src[from + 2];
      dst[to + 3] = src[from + 3];
      to += 4;
      from += 4;
    }
    while (to < stop) dst[to++] = src[from++];
  }

  /* A match reaching back beyond the frame's own output continues into the dictionary content. */
  function copyFromDictionary(out, op, offset, length, frameStart, dictContent) {
    var back = offset - (op - frameStart); // bytes to go back from the dictionary's end
    if (dictContent === null || back > dictContent.length) fail('match offset ' + offset + ' reaches before the window');
    var from = dictContent.length - back;
    var fromDict = back < length ? back : length;
    copyForward(out, op, dictContent, from, fromDict);
    op += fromDict;
    // The rest continues at the frame's first byte, possibly overlapping what is being written.
    copyForward(out, op, out, frameStart, length - fromDict);
    return op + length - fromDict;
  }

  /* Sequences section (section 3.1.1.3.2) and sequence execution (3.1.1.4). Writes the block's
   * output at out[op..] and returns the new output position. */
  function decodeSequences(src, pos, end, state, out, op, limit, frameStart, dictContent) {
    if (pos >= end) fail('sequences section is missing');
    var nbSeq = src[pos++];
    if (nbSeq >= 128) {
      if (nbSeq === 255) {
        if (pos + 2 > end) fail('sequences header is truncated');
        nbSeq = src[pos] + (src[pos + 1] << 8) + 0x7f00;
        pos += 2;
      } else {
        if (pos >= end) fail('sequences header is truncated');
        nbSeq = ((nbSeq - 128) << 8) + src[pos++];
      }
    }
    var lit = state.litBuf;
    var litPos = state.litPos;
    var litEnd = state.litEnd;
    var i;
    if (nbSeq === 0) {
      if (pos !== end) fail('sequences section has trailing bytes');
      var onlyLiterals = litEnd - litPos;
      if (op + onlyLiterals > limit) fail('block decodes to more than its frame allows');
      out.set(lit.subarray(litPos, litEnd), op);
      return op + onlyLiterals;
    }
    if (pos >= end) fail('sequences header is truncated');
    var modes = src[pos++];
    if ((modes & 3) !== 0) fail('reserved bits set in sequence compression modes');
    pos = readSeqTable(modes >>> 6, src, pos, end, state, LL_KIND, 'llTable', LL_PREDEFINED, false);
    pos = readSeqTable((modes >>> 4) & 3, src, pos, end, state, OF_KIND, 'ofTable', OF_PREDEFINED, false);
    pos = readSeqTable((modes >>> 2) & 3, src, pos, end, state, ML_KIND, 'mlTable', ML_PREDEFINED, false);

    var llT = state.llTable, ofT = state.ofTable, mlT = state.mlTable;
    var llBase = llT.base, llInfo = llT.info;
    var ofBase = ofT.base, ofInfo = ofT.info;
    var mlBase = mlT.base, mlInfo = mlT.info;

    // Backward bitstream over src[pos..end), inlined: acc holds `bits` unread bits in its low end.
    if (end <= pos) fail('sequence bitstream is empty');
    var start = pos;
    var bp = end - 1;
    var last = src[bp];
    if (last === 0) fail('sequence bitstream has no end marker');
    var bits = highBit(last);
    var acc = last;
    var v;

    while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
    var llLog = llT.log, ofLog = ofT.log, mlLog = mlT.log;
    if (bits < llLog + ofLog) fail('sequence bitstream is too short');
    var llState = (acc >>> (bits - llLog)) & ((1 << llLog) - 1); bits -= llLog;
    var ofState = (acc >>> (bits - ofLog)) & ((1 << ofLog) - 1); bits -= ofLog;
    while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
    if (bits < mlLog) fail('sequence bitstream is too short');
    var mlState = (acc >>> (bits - mlLog)) & ((1 << mlLog) - 1); bits -= mlLog;

    var rep0 = state.rep0, rep1 = state.rep1, rep2 = state.rep2;
    var historyStart = dictContent === null ? frameStart : frameStart - dictContent.length;

    for (i = 0; i < nbSeq; i++) {
      var ofCell = ofInfo[ofState], mlCell = mlInfo[mlState], llCell = llInfo[llState];
      var ofN = ofCell >>> 24, mlN = mlCell >>> 24, llN = llCell >>> 24;
      if (bits < 25) {
        while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
      }
      var offsetValue, ml, ll;
      if (ofN + mlN + llN <= bits) {
        // Common case: all three extra-bit fields are already in acc.
        bits -= ofN;
        offsetValue = ofBase[ofState] + ((acc >>> bits) & ((1 << ofN) - 1));
        bits -= mlN;
        ml = mlBase[mlState] + ((acc >>> bits) & ((1 << mlN) - 1));
        bits -= llN;
        ll = llBase[llState] + ((acc >>> bits) & ((1 << llN) - 1));
      } else {
        // Long offsets, or the stream's first bits: one field at a time, refilling in between.
        if (ofN > 24) {
          bits -= ofN - 16;
          if (bits < 0) fail('sequence bitstream is corrupted (read past its start)');
          v = (acc >>> bits) & ((1 << (ofN - 16)) - 1);
          while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
          bits -= 16;
          if (bits < 0) fail('sequence bitstream is corrupted (read past its start)');
          offsetValue = ofBase[ofState] + v * 65536 + ((acc >>> bits) & 0xffff);
        } else {
          bits -= ofN;
          if (bits < 0) fail('sequence bitstream is corrupted (read past its start)');
          offsetValue = ofBase[ofState] + ((acc >>> bits) & ((1 << ofN) - 1));
        }
        while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
        bits -= mlN;
        if (bits < 0) fail('sequence bitstream is corrupted (read past its start)');
        ml = mlBase[mlState] + ((acc >>> bits) & ((1 << mlN) - 1));
        while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
        bits -= llN;
        if (bits < 0) fail('sequence bitstream is corrupted (read past its start)');
        ll = llBase[llState] + ((acc >>> bits) & ((1 << llN) - 1));
      }
      // Repeat offsets (section 3.1.1.5).
      var offset;
      if (offsetValue > 3) {
        offset = offsetValue - 3;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = offset;
      } else {
        var index = ll === 0 ? offsetValue : offsetValue - 1;
        if (index === 0) {
          offset = rep0;
        } else if (index === 1) {
          offset = rep1;
          rep1 = rep0;
          rep0 = offset;
        } else if (index === 2) {
          offset = rep2;
          rep2 = rep1;
          rep1 = rep0;
          rep0 = offset;
        } else {
          offset = rep0 - 1;
          if (offset === 0) fail('repeat offset became zero');
          rep2 = rep1;
          rep1 = rep0;
          rep0 = offset;
        }
      }

      // State updates (not after the last sequence): literal length, match length, offset.
      if (i + 1 < nbSeq) {
        var llNb = (llCell >>> 16) & 255, mlNb = (mlCell >>> 16) & 255, ofNb = (ofCell >>> 16) & 255;
        if (bits < llNb + mlNb) {
          while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
          if (bits < llNb + mlNb) fail('sequence bitstream is corrupted (read past its start)');
        }
        bits -= llNb;
        llState = (llCell & 0xffff) + ((acc >>> bits) & ((1 << llNb) - 1));
        bits -= mlNb;
        mlState = (mlCell & 0xffff) + ((acc >>> bits) & ((1 << mlNb) - 1));
        if (bits < ofNb) {
          while (bits <= 24 && bp > start) { acc = (acc << 8) | src[--bp]; bits += 8; }
          if (bits < ofNb) fail('sequence bitstream is corrupted (read past its start)');
        }
        bits -= ofNb;
        ofState = (ofCell & 0xffff) + ((acc >>> bits) & ((1 << ofNb) - 1));
      }
      // Execute: copy ll literals, then ml bytes from offset back.
      if (litPos + ll > litEnd) fail('sequence uses more literals than the block has');
      if (op + ll + ml > limit) fail('block decodes to more than its frame allows');
      if (ll > 32) out.set(lit.subarray(litPos, litPos + ll), op);
      else copyForward(out, op, lit, litPos, ll);
      op += ll;
      litPos += ll;
      var from = op - offset;
      if (from < frameStart) {
        if (from < historyStart) fail('match offset ' + offset + ' reaches before the window');
        op = copyFromDictionary(out, op, offset, ml, frameStart, dictContent);
      } else {
        if (offset >= ml && ml > MATCH_BUILTIN_MIN) out.copyWithin(op, from, from + ml);
        else copyForward(out, op, out, from, ml); // when offset < ml this repeats the last bytes
        op += ml;
      }
    }
    if (bits !== 0 || bp !== start) fail('sequence bitstream is corrupted (wrong length)');
    state.rep0 = rep0;
    state.rep1 = rep1;
    state.rep2 = rep2;
    var tail = litEnd - litPos;
    if (op + tail > limit) fail('block decodes to more than its frame allows');
    out.set(lit.subarray(litPos, litEnd), op);
    return op + tail;
  }

  // ---------------------------------------------------------------------------------------------
  // Content checksum: the low 32 bits of XXH64 (seed 0) of the frame's output (section 3.1.1).
  // 64-bit arithmetic is done on 32-bit halves kept as int32 (signed: bit patterns are what
  // matter). Results go through the typed array R rather than variables, because storing
  // full 32-bit values in closure variables would allocate a heap number on every step.
  // No BigInt: it is far slower on this path.

  var P1H = 0x9e3779b1 | 0, P1L = 0x85ebca87 | 0;
  var P2H = 0xc2b2ae3d | 0, P2L = 0x27d4eb4f | 0;
  var P3H = 0x165667b1 | 0, P3L = 0x9e3779f9 | 0;
  var P4H = 0x85ebca77 | 0, P4L = 0xc2b2ae63 | 0;
  var P5H = 0x27d4eb2f | 0, P5L = 0x165667c5 | 0;
  var R = new Int32Array(2); // [high, low] of the last result

  function mul64(ah, al, bh, bl) {
    // The low 64 bits of the product: al*bl in full (from 16-bit pieces), plus the cross terms
    // shifted up by 32 (only their low 32 bits matter).
    var a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
    var p01 = a0 * b1, p10 = a1 * b0;
    var mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    var high = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
    R[0] = (high + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
    R[1] = Math.imul(al, bl);
  }

  function add64(ah, al, bh, bl) {
    var low = (al >>> 0) + (bl >>> 0);
    R[1] = low | 0;
    R[0] = (ah + bh + (low > 0xffffffff ? 1 : 0)) | 0;
  }

  function rotl64(h, l, r) {
    R[0] = (h << r) | (l >>> (32 - r));
    R[1] = (l << r) | (h >>> (32 - r));
  }

  // acc = rotl(acc + input * P2, 31) * P1; the first product, the sum and the rotation stay in
  // locals (this runs once per 8 bytes of output).
  var P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;
  function round64(accH, accL, inH, inL) {
    var a0 = inL & 0xffff, a1 = inL >>> 16;
    var p01 = a0 * P2L1, p10 = a1 * P2L0;
    var mid = ((a0 * P2L0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    var tH = (a1 * P2L1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(inH, P2L) + Math.imul(inL, P2H)) | 0;
    var tL = Math.imul(inL, P2L);
    var low = (accL >>> 0) + (tL >>> 0);
    var sL = low | 0;
    var sH = (accH + tH + (low > 0xffffffff ? 1 : 0)) | 0;
    mul64((sH << 31) | (sL >>> 1), (sL << 31) | (sH >>> 1), P1H, P1L);
  }

  function readLE32s(src, pos) {
    return src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24);
  }

  function xxh64Low32(src, start, end) {
    var p = start;
    var hH, hL;
    if (end - start >= 32) {
      add64(P1H, P1L, P2H, P2L);
      var v1H = R[0], v1L = R[1];
      var v2H = P2H, v2L = P2L;
      var v3H = 0, v3L = 0;
      add64(~P1H, ~P1L, 0, 1); // -P1
      var v4H = R[0], v4L = R[1];
      for (var limit = end - 32; p <= limit; p += 32) {
        round64(v1H, v1L, readLE32s(src, p + 4), readLE32s(src, p));
        v1H = R[0]; v1L = R[1];
        round64(v2H, v2L, readLE32s(src, p + 12), readLE32s(src, p + 8));
        v2H = R[0]; v2L = R[1];
        round64(v3H, v3L, readLE32s(src, p + 20), readLE32s(src, p + 16));
        v3H = R[0]; v3L = R[1];
        round64(v4H, v4L, readLE32s(src, p + 28), readLE32s(src, p + 24));
        v4H = R[0]; v4L = R[1];
      }
      rotl64(v1H, v1L, 1);
      hH = R[0]; hL = R[1];
      rotl64(v2H, v2L, 7);
      add64(hH, hL, R[0], R[1]);
      hH = R[0]; hL = R[1];
      rotl64(v3H, v3L, 12);
      add64(hH, hL, R[0], R[1]);
      hH = R[0]; hL = R[1];
      rotl64(v4H, v4L, 18);
      add64(hH, hL, R[0], R[1]);
      hH = R[0]; hL = R[1];
      var lanes = [v1H, v1L, v2H, v2L, v3H, v3L, v4H, v4L];
      for (var i = 0; i < 8; i += 2) {
        round64(0, 0, lanes[i], lanes[i + 1]);
        mul64(hH ^ R[0], hL ^ R[1], P1H, P1L);
        add64(R[0], R[1], P4H, P4L);
        hH = R[0]; hL = R[1];
      }
    } else {
      hH = P5H; hL = P5L;
    }
    add64(hH, hL, 0, end - start);
    hH = R[0]; hL = R[1];
    for (; p + 8 <= end; p += 8) {
      round64(0, 0, readLE32s(src, p + 4), readLE32s(src, p));
      rotl64(hH ^ R[0], hL ^ R[1], 27);
      mul64(R[0], R[1], P1H, P1L);
      add64(R[0], R[1], P4H, P4L);
      hH = R[0]; hL = R[1];
    }
    if (p + 4 <= end) {
      mul64(0, readLE32s(src, p), P1H, P1L);
      rotl64(hH ^ R[0], hL ^ R[1], 23);
      mul64(R[0], R[1], P2H, P2L);
      add64(R[0], R[1], P3H, P3L);
      hH = R[0]; hL = R[1];
      p += 4;
    }
    for (; p < end; p++) {
      mul64(0, src[p], P5H, P5L);
      rotl64(hH ^ R[0], hL ^ R[1], 11);
      mul64(R[0], R[1], P1H, P1L);
      hH = R[0]; hL = R[1];
    }
    // Avalanche.
    hL = hL ^ (hH >>> 1);
    mul64(hH, hL, P2H, P2L);
    hH = R[0]; hL = R[1];
    hL = hL ^ ((hL >>> 29) | (hH << 3));
    hH = hH ^ (hH >>> 29);
    mul64(hH, hL, P3H, P3L);
    return (R[1] ^ R[0]) >>> 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Frames (section 3.1.1)

  /* Parses a frame header at src[pos..]. */
  function readFrameHeader(src, pos) {
    var end = src.length;
    if (pos + 1 > end) fail('frame header is truncated');
    var descriptor = src[pos++];
    var fcsFlag = descriptor >>> 6;
    var singleSegment = (descriptor >>> 5) & 1;
    if (descriptor & 8) fail('reserved bit set in frame header');
    var hasChecksum = (descriptor >>> 2) & 1;
    var dictIdFlag = descriptor & 3;
    var windowSize = 0;
    if (!singleSegment) {
      if (pos + 1 > end) fail('frame header is truncated');
      var wd = src[pos++];
      var windowLog = 10 + (wd >>> 3);
      var windowBase = Math.pow(2, windowLog);
      windowSize = windowBase + (windowBase / 8) * (wd & 7);
    }
    var dictIdSize = dictIdFlag === 3 ? 4 : dictIdFlag;
    var dictId = 0;
    if (pos + dictIdSize > end) fail('frame header is truncated');
    for (var i = 0; i < dictIdSize; i++) dictId += src[pos + i] * Math.pow(256, i);
    pos += dictIdSize;
    var fcsSize = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    var contentSize = -1;
    if (fcsSize > 0) {
      if (pos + fcsSize > end) fail('frame header is truncated');
      contentSize = 0;
      for (var j = 0; j < fcsSize; j++) contentSize += src[pos + j] * Math.pow(256, j);
      if (fcsSize === 2) contentSize += 256;
      pos += fcsSize;
    }
    if (singleSegment) windowSize = contentSize;
    return {
      pos: pos,
      contentSize: contentSize,
      windowSize: windowSize,
      dictId: dictId,
      hasChecksum: hasChecksum
    };
  }

  function Output(capacity) {
    this.buf = new Uint8Array(capacity);
  }
  Output.prototype.ensure = function (needed) {
    if (needed <= this.buf.length) return;
    if (needed > MAX_OUTPUT) fail('output is too large for this decoder');
    var grown = Math.max(needed, Math.min(MAX_OUTPUT, this.buf.length * 2));
    var next = new Uint8Array(grown);
    next.set(this.buf);
    this.buf = next;
  };

  /* Decodes one frame at src[pos..] into output at op. Returns [new pos, new op]. */
  function decodeFrame(src, pos, output, op, dict) {
    var header = readFrameHeader(src, pos);
    pos = header.pos;
    if (header.dictId !== 0) {
      if (dict === null) fail('frame needs dictionary ' + header.dictId + ' but none was given');
      if (dict.id !== header.dictId) fail('frame needs dictionary ' + header.dictId + ', given ' + dict.id);
    }
    var frameStart = op;
    var frameEnd = -1;
    if (header.contentSize >= 0) {
      if (header.contentSize > MAX_OUTPUT - op) fail('frame content size is too large');
      frameEnd = op + header.contentSize;
      // Trust the declared size for preallocation only as far as the input could possibly expand.
      var plausible = (src.length - pos) * 32768;
      output.ensure(Math.min(frameEnd, op + plausible));
    }
    var blockMax = BLOCK_MAX;
    if (header.windowSize > 0 && header.windowSize < blockMax) blockMax = header.windowSize;
    var state = new FrameState(dict);
    var dictContent = dict === null ? null : dict.content;
    for (;;) {
      if (pos + 3 > src.length) fail('block header is truncated');
      var bh = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16);
      pos += 3;
      var isLast = bh & 1;
      var type = (bh >>> 1) & 3;
      var size = bh >>> 3;
      var limit = op + blockMax;
      if (frameEnd >= 0 && frameEnd < limit) limit = frameEnd;
      if (type === 0) {
        if (size > blockMax) fail('raw block is larger than the maximum block size');
        if (pos + size > src.length) fail('raw block is truncated');
        if (op + size > limit) fail('block decodes to more than its frame allows');
        output.ensure(op + size);
        output.buf.set(src.subarray(pos, pos + size), op);
        op += size;
        pos += size;
      } else if (type === 1) {
        if (size > blockMax) fail('RLE block is larger than the maximum block size');
        if (pos + 1 > src.length) fail('RLE block is truncated');
        if (op + size > limit) fail('block decodes to more than its frame allows');
        output.ensure(op + size);
        output.buf.fill(src[pos], op, op + size);
        op += size;
        pos += 1;
      } else if (type === 2) {
        if (size > blockMax) fail('compressed block is larger than the maximum block size');
        var blockEnd = pos + size;
        if (blockEnd > src.length) fail('compressed block is truncated');
        if (size === 0) fail('compressed block is empty');
        output.ensure(limit);
        var afterLiterals = readLiterals(src, pos, blockEnd, state);
        op = decodeSequences(src, afterLiterals, blockEnd, state, output.buf, op, limit,
          frameStart, dictContent);
        pos = blockEnd;
      } else {
        fail('reserved block type');
      }
      if (isLast) break;
    }
    if (header.hasChecksum) {
      if (pos + 4 > src.length) fail('frame checksum is truncated');
      if (readLE32(src, pos) !== xxh64Low32(output.buf, frameStart, op)) fail('content checksum does not match (data is corrupted)');
      pos += 4;
    }
    if (frameEnd >= 0 && op !== frameEnd) fail('frame decodes to ' + (op - frameStart) + ' bytes, header says ' + header.contentSize);
    return [pos, op];
  }

  function toBytes(src, what) {
    if (src instanceof Uint8Array) return src;
    if (src instanceof ArrayBuffer) return new Uint8Array(src);
    if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    fail(what + ' must be a Uint8Array');
  }

  /* Decompresses every frame in src (skippable frames are skipped) and returns the concatenation. */
  function decompress(src, dict) {
    src = toBytes(src, 'input');
    if (dict === undefined) dict = null;
    if (dict !== null && !(dict instanceof PreparedDictionary)) fail('dictionary must come from prepareDictionary');
    var output = new Output(0);
    var pos = 0;
    var op = 0;
    var frames = 0;
    while (pos < src.length) {
      if (pos + 4 > src.length) fail('trailing bytes after the last frame');
      var magic = readLE32(src, pos);
      if (magic === FRAME_MAGIC) {
        var result = decodeFrame(src, pos + 4, output, op, dict);
        pos = result[0];
        op = result[1];
        frames++;
      } else if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) {
        if (pos + 8 > src.length) fail('skippable frame header is truncated');
        var skip = readLE32(src, pos + 4);
        if (pos + 8 + skip > src.length) fail('skippable frame is truncated');
        pos += 8 + skip;
        frames++;
      } else {
        fail(frames === 0 ? 'not a zstd frame (bad magic number)' : 'bad magic number after frame ' + frames);
      }
    }
    if (frames === 0) fail('input is empty');
    var buf = output.buf;
    return op === buf.length ? buf : buf.slice(0, op);
  }

  // ---------------------------------------------------------------------------------------------
  // Dictionaries (section 5)

  function PreparedDictionary(id, content) {
    this.id = id;
    this.content = content;
    this.huf = null;
    this.llTable = null;
    this.ofTable = null;
    this.mlTable = null;
    this.reps = [1, 4, 8];
  }

  /* Parses a dictionary once. Bytes without the dictionary magic are raw prefix content. */
  function prepareDictionary(bytes) {
    bytes = toBytes(bytes, 'dictionary');
    if (bytes.length < 8 || readLE32(bytes, 0) !== DICT_MAGIC) {
      return new PreparedDictionary(0, bytes.slice());
    }
    var id = readLE32(bytes, 4);
    var end = bytes.length;
    var pos = 8;
    var dict = new PreparedDictionary(id, null);
    var huf = readHuffmanTree(bytes, pos, end, true);
    dict.huf = huf;
    pos += huf.size;
    var state = { ofTable: null, mlTable: null, llTable: null };
    pos = readSeqTable(2, bytes, pos, end, state, OF_KIND, 'ofTable', null, true);
    pos = readSeqTable(2, bytes, pos, end, state, ML_KIND, 'mlTable', null, true);
    pos = readSeqTable(2, bytes, pos, end, state, LL_KIND, 'llTable', null, true);
    dict.ofTable = state.ofTable;
    dict.mlTable = state.mlTable;
    dict.llTable = state.llTable;
    if (pos + 12 > end) fail('dictionary is truncated before its repeat offsets');
    var contentSize = end - pos - 12;
    for (var i = 0; i < 3; i++) {
      var rep = readLE32(bytes, pos + 4 * i);
      if (rep === 0 || rep > contentSize) fail('dictionary repeat offset ' + rep + ' is invalid');
      dict.reps[i] = rep;
    }
    dict.content = bytes.slice(pos + 12);
    return dict;
  }

  return { decompress: decompress, prepareDictionary: prepareDictionary };
})();
