/* infopack viewer: library, article, search, card check. A classic script (works from file://).
 * Data arrive through added <script src="data/..."> tags calling infopackData(name, units); each
 * payload is checked against the SHA-256 in the root document before use. Nothing is stored:
 * no cookies, no localStorage/sessionStorage/IndexedDB, no network. */
(function () {
  'use strict';

  var ROOT = JSON.parse(document.getElementById('infopack-root').textContent);
  var ONE_FILE = !!ROOT.one_file;
  var TEXT_CACHE_LIMIT = 12; // decoded text packs kept in memory (each <= 256 KB)
  var PAGE = 50; // library rows rendered per step

  // ---------------------------------------------------------------- strings (ko / en)
  var STRINGS = {
    en: {
      library: 'Library', articles: '{n} articles', oneArticle: '1 article', all: 'All', more: 'Show more', back: 'Back to the library', backResults: 'Back to the results', goBack: 'Back',
      previous: 'Previous', next: 'Next', search: 'Search', searchPlaceholder: 'Search this library',
      results: '{n} results', oneResult: '1 result', noResults: 'Nothing found.', notFound: 'There is no article with this address.',
      damagedArticle: 'This article cannot be read: part of this card is damaged or missing ({file}). Other articles still work.',
      damagedList: 'Part of this card is damaged or missing ({file}). The list may be incomplete.',
      check: 'Check this card', checkIntro: 'Checks every data file of this library against the fingerprint recorded when it was made. Nothing leaves this device.',
      checkLimit: 'This check finds accidental damage, such as a worn card or a bad copy. It cannot find forgery: whoever changes a card on purpose can also put a changed copy of this page on it, with fingerprints that match, and the check would still say that everything is intact. Partners who copy and hand out cards: check each card on a computer with the command infopack verify and the publisher\'s public key. It checks the publisher\'s signature, which nobody can make without the publisher\'s secret key.',
      checkStart: 'Start check', checking: 'Checking', checkOk: 'All {n} data files are intact: no accidental damage found.',
      checkBad: '{bad} of {n} data files are damaged or missing:', affected: 'Articles that cannot be read:',
      safety: 'Reading safely', language: 'Language', tags: 'Topics', years: 'Years', articleLanguage: 'Articles in', filters: 'Languages, topics, years',
      uiLanguage: 'Menus', uiLanguageTitle: 'Show the menus and notices of this page in Korean (the articles stay as they are)', searchUnavailable: 'Search is not available in this library.',
      switchTo: '한국어', missingMedia: 'Images, audio and video are not included in this single file. Open index.html on the card to see them.',
      loading: 'Loading…', error: 'Something went wrong: ', volume: 'Volume {n} of {total}',
      openPhone: 'This browser cannot read the library\'s other files from here (phones often open only one file). Open phone.html from the same card instead: it holds the whole library in one file.'
    },
    ko: {
      library: '도서관', articles: '{n}개의 글', oneArticle: '1개의 글', all: '전체', more: '더 보기', back: '목록으로 돌아가기', backResults: '검색 결과로 돌아가기', goBack: '뒤로',
      previous: '이전 글', next: '다음 글', search: '검색', searchPlaceholder: '이 도서관에서 검색',
      results: '{n}개의 결과', oneResult: '1개의 결과', noResults: '찾은 글이 없습니다.', notFound: '이 주소의 글이 없습니다.',
      damagedArticle: '이 글을 읽을 수 없습니다. 카드의 일부가 손상되었거나 없습니다 ({file}). 다른 글은 읽을 수 있습니다.',
      damagedList: '카드의 일부가 손상되었거나 없습니다 ({file}). 목록이 완전하지 않을 수 있습니다.',
      check: '카드 검사', checkIntro: '이 도서관의 모든 자료 파일을 만들 때 기록한 지문과 비교합니다. 아무것도 이 기기 밖으로 나가지 않습니다.',
      checkLimit: '이 검사는 카드가 닳거나 잘못 복사되어 생긴 우발적인 손상을 찾습니다. 위조는 찾지 못합니다. 카드를 일부러 바꾼 사람은 이 검사 화면과 지문도 함께 바꿔 넣을 수 있고, 그러면 이 검사는 여전히 모두 온전하다고 말합니다. 카드를 복사해 나누어 주는 협력자는 컴퓨터에서 발행처의 공개 키로 infopack verify 명령을 실행해 카드마다 확인하십시오. 이 명령은 발행처의 서명을 확인하며, 그 서명은 발행처의 비밀 키 없이는 아무도 만들 수 없습니다.',
      checkStart: '검사 시작', checking: '검사 중', checkOk: '자료 파일 {n}개가 모두 온전합니다. 우발적인 손상은 없습니다.',
      checkBad: '자료 파일 {n}개 중 {bad}개가 손상되었거나 없습니다:', affected: '읽을 수 없는 글:',
      safety: '안전하게 읽기', language: '언어', tags: '주제', years: '연도', articleLanguage: '글의 언어', filters: '언어, 주제, 연도',
      uiLanguage: '메뉴', uiLanguageTitle: '이 페이지의 메뉴와 안내를 영어로 보기 (글은 그대로입니다)', searchUnavailable: '이 도서관에서는 검색을 쓸 수 없습니다.',
      switchTo: 'English', missingMedia: '이 한 파일에는 그림, 소리, 동영상이 들어 있지 않습니다. 카드의 index.html을 열면 볼 수 있습니다.',
      loading: '불러오는 중…', error: '문제가 생겼습니다: ', volume: '전체 {total}권 중 {n}권',
      openPhone: '이 브라우저는 여기에서 도서관의 다른 파일을 읽을 수 없습니다(전화기는 흔히 파일 하나만 엽니다). 같은 카드에 있는 phone.html을 여십시오. 도서관 전체가 그 파일 하나에 들어 있습니다.'
    }
  };
  // The data-loading paths' strings (library.pack picker, per-article damage, media check) live in pack.js.
  ['en', 'ko'].forEach(function (code) {
    for (var key in InfopackPack.STRINGS[code]) STRINGS[code][key] = InfopackPack.STRINGS[code][key];
  });
  var LANG_NAMES = { ko: '한국어', en: 'English', ja: '日本語', zh: '中文', ru: 'Русский' };
  var uiLang = pickUiLang();

  function pickUiLang() {
    if (ROOT.bundle.lang === 'ko' || ROOT.bundle.lang === 'en') return ROOT.bundle.lang;
    return (navigator.language || '').slice(0, 2) === 'ko' ? 'ko' : 'en';
  }
  /* "3개의 결과", "3 results", "1 result": the number inside the sentence, the Korean way. */
  var SINGULAR = { articles: 'oneArticle', results: 'oneResult' };
  function countText(key, n) { return n === 1 ? t(SINGULAR[key]) : t(key, { n: n }); }
  function t(key, values) {
    var text = STRINGS[uiLang][key] || STRINGS.en[key] || key;
    if (values) for (var name in values) text = text.split('{' + name + '}').join(String(values[name]));
    return text;
  }

  // ---------------------------------------------------------------- data files
  function Damage(name, reason) {
    this.name = name;
    this.reason = reason;
    // Where the reader can find the damage: the data file, or the payload inside library.pack.
    this.file = packReader ? 'library.pack (' + name + ')' : 'data/' + name + '.js';
    this.message = this.file + ': ' + reason;
  }
  /* One article's frame does not match its catalog fingerprint: that article alone is lost. */
  function ArticleDamage(name, title) {
    Damage.call(this, name, 'damaged');
    this.title = title;
  }
  ArticleDamage.prototype = Object.create(Damage.prototype);

  /* Set once the reader has picked library.pack (phone.html of a big library, or index.html opened
   * without its sibling files): every payload is then read from slices of that file. */
  var packReader = null;
  /* Set once the reader has picked library.pack to stand in for damaged data files: the data
   * files stay the source, and a payload or article that fails its check is read from the pack. */
  var spareReader = null;

  var anyPayloadLoaded = false; // none at all, and the first is missing: sibling files are unreachable
  var pending = {}; // payload name -> {resolve, reject} while its <script> loads
  var arrived = {}; // payloads that called infopackData before anyone asked (one-file variant)
  var payloadCache = {};
  var textCacheOrder = [];

  /* Data files (a string of UTF-16 code units) and the one-file variant's inline base64 both
   * arrive here; decoding waits until someone asks for the payload. */
  function receive(name, encoded) {
    var waiting = pending[name];
    if (waiting) {
      delete pending[name];
      waiting.resolve(encoded);
    } else {
      arrived[name] = encoded;
    }
  }
  window.infopackData = function (name, units) { receive(name, { units: units }); };

  /* The one-file variant holds its payloads in non-executable <script type="text/plain"> elements. */
  function collectInlinePayloads() {
    Array.prototype.forEach.call(document.querySelectorAll('script[type="text/plain"][data-payload]'), function (node) {
      receive(node.getAttribute('data-payload'), { base64: node.textContent });
      node.remove();
    });
  }

  function fetchEncoded(name) {
    if (packReader) {
      return packReader.read(name).then(function (bytes) { return { bytes: bytes }; }, function () {
        throw new Damage(name, 'missing');
      });
    }
    if (Object.prototype.hasOwnProperty.call(arrived, name)) {
      var early = arrived[name];
      // Inline payloads are the only copy in the one-file variant: keep them for the card check.
      if (!ONE_FILE) delete arrived[name];
      return Promise.resolve(early);
    }
    if (ONE_FILE) return Promise.reject(new Damage(name, 'missing'));
    // Two loads of one file at once would share one `pending` slot and the first would never
    // settle (the card check and the article view can ask together): they share one load.
    if (inFlight[name]) return inFlight[name];
    var loading = inFlight[name] = new Promise(function (resolve, reject) {
      var mine = pending[name] = { resolve: resolve, reject: reject };
      var script = document.createElement('script');
      script.src = 'data/' + name + '.js';
      script.charset = 'utf-16'; // the file's byte order mark decides in any case
      // Only this load's own slot: promise callbacks run between a script and its load event, so
      // a next load of the same file may already be waiting there.
      function ours() { return pending[name] === mine; }
      script.onload = function () {
        script.remove();
        // Loaded but never called infopackData with its name: the file is damaged.
        if (ours()) { delete pending[name]; reject(new Damage(name, 'damaged')); }
      };
      script.onerror = function () {
        script.remove();
        if (ours()) delete pending[name];
        reject(new Damage(name, 'missing'));
      };
      document.head.appendChild(script);
    });
    function settled() { delete inFlight[name]; }
    loading.then(settled, settled);
    return loading;
  }
  var inFlight = {};

  /* Two bytes per UTF-16 code unit, little-endian (docs/FORMAT.md section 2). `lenient`: a text
   * pack of the wrong length is decoded as far as it goes; each article is checked on its own. */
  function decodeUnits(name, text, length, lenient) {
    if (text.length !== (length + 1) >> 1) {
      if (!lenient) throw new Damage(name, 'damaged');
      length = Math.min(length, text.length * 2);
    }
    var bytes = new Uint8Array(length), pairs = length >> 1, j = 0;
    for (var i = 0; i < pairs; i++) {
      var unit = text.charCodeAt(i);
      bytes[j++] = unit & 255;
      bytes[j++] = unit >>> 8;
    }
    if (length & 1) bytes[j] = text.charCodeAt(pairs) & 255;
    return bytes;
  }

  function decodeBase64(name, text) {
    if (typeof Uint8Array.fromBase64 === 'function') {
      try { return Uint8Array.fromBase64(text); } catch (e) { throw new Damage(name, 'damaged'); }
    }
    var binary;
    try { binary = atob(text); } catch (e) { throw new Damage(name, 'damaged'); }
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toHex(buffer) {
    var bytes = new Uint8Array(buffer), out = '';
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    return out;
  }

  function sha256Hex(bytes) {
    if (window.crypto && crypto.subtle && crypto.subtle.digest) {
      return crypto.subtle.digest('SHA-256', bytes).then(toHex, function () { return InfopackSha256.hex(bytes); });
    }
    return Promise.resolve(InfopackSha256.hex(bytes));
  }

  /* Load, decode and check one payload. `perArticle` (text packs): no check of the whole payload,
   * since each article's frame is checked against its catalog entry (articleHtml), so that damage
   * costs only the article it hit (docs/FORMAT.md section 4). */
  function loadChecked(name, perArticle) {
    return checkPayload(name, perArticle, fetchEncoded(name)).catch(function (error) {
      if (!spareReader || !(error instanceof Damage)) throw error;
      // A damaged or missing data file, read instead from the card's second copy (library.pack).
      return checkPayload(name, perArticle, spareReader.read(name).then(function (bytes) { return { bytes: bytes }; }))
        .catch(function () { throw error; });
    });
  }
  function checkPayload(name, perArticle, encodedPromise) {
    var expected = ROOT.files[name];
    if (!expected) return Promise.reject(new Damage(name, 'missing'));
    return encodedPromise.then(function (encoded) {
      var bytes = encoded.bytes || (encoded.units !== undefined
        ? decodeUnits(name, encoded.units, expected[0], perArticle) : decodeBase64(name, encoded.base64));
      if (perArticle) { anyPayloadLoaded = true; return bytes; }
      if (bytes.length !== expected[0]) throw new Damage(name, 'damaged');
      return sha256Hex(bytes).then(function (hex) {
        if (hex !== expected[1]) throw new Damage(name, 'damaged');
        anyPayloadLoaded = true;
        return bytes;
      });
    });
  }

  function loadPayload(name) {
    if (payloadCache[name]) return payloadCache[name];
    var promise = loadChecked(name, name.startsWith('text/'));
    payloadCache[name] = promise;
    if (name.startsWith('text/')) {
      textCacheOrder.push(name);
      if (textCacheOrder.length > TEXT_CACHE_LIMIT) delete payloadCache[textCacheOrder.shift()];
    }
    promise.catch(function () { delete payloadCache[name]; });
    return promise;
  }

  var utf8 = new TextDecoder('utf-8');
  function decompress(bytes, dictionary) { return InfopackZstd.decompress(bytes, dictionary); }
  function loadJson(name) {
    return loadPayload(name).then(function (bytes) { return JSON.parse(utf8.decode(decompress(bytes))); });
  }
  var jsonCache = {};
  function json(name) {
    if (!jsonCache[name]) {
      jsonCache[name] = loadJson(name);
      jsonCache[name].catch(function () { delete jsonCache[name]; });
    }
    return jsonCache[name];
  }

  var dictionaryPromise = null;
  function dictionary() {
    if (!dictionaryPromise) {
      dictionaryPromise = ROOT.files.dict
        ? loadPayload('dict').then(function (bytes) { return InfopackZstd.prepareDictionary(bytes); })
        : Promise.resolve(undefined);
      dictionaryPromise.catch(function () { dictionaryPromise = null; });
    }
    return dictionaryPromise;
  }

  function pad(number, width) { var s = String(number); while (s.length < width) s = '0' + s; return s; }

  // ---------------------------------------------------------------- catalog
  // Entry: [slug, title, date, lang, summary, tags, pack, offset, length, media]
  function catalogShardName(index) { return 'cat/' + pad(index, 4); }
  function entry(id) {
    var size = ROOT.catalog_shard_size;
    return json(catalogShardName(Math.floor(id / size))).then(function (rows) { return rows[id % size]; });
  }
  function fnv1a(text) {
    var bytes = new TextEncoder().encode(text), hash = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
    return hash;
  }
  function idForSlug(slug) {
    var shard = fnv1a(slug) % ROOT.slug_shards;
    return json('slug/' + pad(shard, 2)).then(function (table) {
      return Object.prototype.hasOwnProperty.call(table, slug) ? table[slug] : -1;
    });
  }
  // Entry index 10: the first 16 hex digits of the SHA-256 of the article's frame.
  function articleHtml(row) {
    var packName = 'text/' + pad(row[6], 4);
    return Promise.all([loadPayload(packName), dictionary()]).then(function (parts) {
      return checkedFrame(packName, parts[0], row).catch(function (error) {
        if (!spareReader || !(error instanceof ArticleDamage)) throw error;
        return spareReader.read(packName).then(function (spare) { return checkedFrame(packName, spare, row); })
          .catch(function () { throw error; });
      }).then(function (frame) {
        return utf8.decode(decompress(frame, parts[1]));
      });
    });
  }
  /* The article's frame, once its fingerprint matches: damaged bytes never reach the decoder. */
  function checkedFrame(packName, pack, row) {
    var frame = pack.subarray(row[7], row[7] + row[8]);
    if (frame.length !== row[8] || typeof row[10] !== 'string') return Promise.reject(new ArticleDamage(packName, row[1]));
    return sha256Hex(frame).then(function (hex) {
      if (hex.slice(0, row[10].length) !== row[10]) throw new ArticleDamage(packName, row[1]);
      return frame;
    });
  }

  // ---------------------------------------------------------------- DOM helpers
  var main = document.getElementById('main');
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    if (attributes) for (var key in attributes) {
      if (key === 'text') node.textContent = attributes[key];
      else node.setAttribute(key, attributes[key]);
    }
    (children || []).forEach(function (child) {
      if (child != null) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }
  /* Every view draws into its own holder (ctx.holder), so that work finishing after the reader has
   * moved on lands in that view's detached nodes, ready for the in-page back, and nowhere else.
   * document.title is never touched: Chromium and Firefox write it to their history files. */
  function show(ctx, nodes) {
    ctx.holder.textContent = '';
    nodes.forEach(function (node) { if (node) ctx.holder.appendChild(node); });
  }
  function notice(text) { return el('div', { 'class': 'notice', role: 'alert', text: text }); }
  function damageText(key, error) {
    if (error instanceof ArticleDamage) return t('damagedOne', { title: error.title, file: error.file });
    return t(key, { file: error && error.file ? error.file : String(error) });
  }
  /* A link inside the viewer. Its href is a bare "#" so that nothing about the target ever reaches
   * the address bar, a new tab or a window (ctrl-, shift- and middle-clicks are intercepted too);
   * where it goes lives in data-route and is followed in memory (see "navigation"). */
  function link(route, attributes) {
    var node = el('a', attributes);
    node.setAttribute('href', '#');
    node.setAttribute('data-route', route);
    return node;
  }

  /* A missing file may mean the card is damaged, or that index.html was opened where its sibling
   * files cannot be read at all (a phone's content:// view of the card). Two of the smallest other
   * data files tell the two apart; in the second case the reader is sent to phone.html. */
  var reachability = null;
  function siblingsReachable() {
    if (ONE_FILE || anyPayloadLoaded) return Promise.resolve(true);
    if (!reachability) {
      var smallest = Object.keys(ROOT.files).sort(function (a, b) { return ROOT.files[a][0] - ROOT.files[b][0]; }).slice(0, 2);
      reachability = Promise.all(smallest.map(function (name) {
        return loadChecked(name).then(function () { return true; }, function (error) {
          return !(error instanceof Damage && error.reason === 'missing');
        });
      })).then(function (results) { return results.indexOf(true) >= 0; });
    }
    return reachability;
  }
  function failureNotice(key, error) {
    var node = notice(damageText(key, error));
    if (error instanceof Damage && ROOT.library_pack && !packReader && !spareReader) {
      // The card keeps every payload twice: the damaged one may be intact in library.pack.
      siblingsReachable().then(function (reachable) { if (reachable) node.appendChild(sparePicker()); });
    }
    if (error instanceof Damage && error.reason === 'missing' && !packReader) {
      siblingsReachable().then(function (reachable) {
        if (reachable) return;
        // index.html alone (a phone's file manager): phone.html, or library.pack picked here.
        node.textContent = t('openPhone');
        node.removeAttribute('role');
        node.appendChild(packPicker('packIndexIntro'));
      });
    }
    return node;
  }
  function sparePicker() {
    return InfopackPack.picker(uiLang, ROOT.files, 'packSpareIntro', function (reader) {
      spareReader = reader;
      payloadCache = {};
      textCacheOrder = [];
      jsonCache = {};
      dictionaryPromise = null;
      engine = null;
      redraw();
    });
  }
  /* The library.pack picker; once a matching pack is open, the view on screen is drawn again. */
  function packPicker(intro) {
    return InfopackPack.picker(uiLang, ROOT.files, intro, function (reader) {
      packReader = reader;
      // index.html that cannot reach its sibling files cannot load media either: from here on it
      // reads like phone.html, media removed before anything tries to load them.
      if (!ONE_FILE) { ONE_FILE = true; ROOT.media_omitted = !!ROOT.files.media; }
      payloadCache = {};
      textCacheOrder = [];
      jsonCache = {};
      dictionaryPromise = null;
      engine = null;
      if (current()) redraw(); else navigate(routeInAddress() || '/');
    });
  }
  function meta(row) {
    var parts = [row[2], LANG_NAMES[row[3]] || row[3]];
    return el('p', { 'class': 'meta' }, [parts.join(' · ')]);
  }
  function chip(label, route, current) {
    var attributes = { 'class': 'chip', text: label };
    if (current) attributes['aria-current'] = 'true';
    return link(route, attributes);
  }
  function articleRoute(row) { return '/a/' + encodeURIComponent(row[0]); }
  function listItem(row, snippetNode) {
    return el('li', null, [
      link(articleRoute(row), { 'class': 'title', lang: row[3], text: row[1] }),
      meta(row),
      snippetNode || (row[4] ? el('p', { lang: row[3], text: row[4] }) : null)
    ]);
  }

  // ---------------------------------------------------------------- library
  /* The articles' language has its own labelled group, apart from the interface language switch
   * in the header, so the two are not taken for each other. */
  function languageChips(filter) {
    var chips = [chip(t('all'), '/', !filter.tag && !filter.lang && !filter.year)];
    Object.keys(ROOT.langs).forEach(function (code) {
      chips.push(chip((LANG_NAMES[code] || code) + ' ' + ROOT.langs[code], '/lang/' + code, filter.lang === code));
    });
    return labelledChips('articleLanguage', chips);
  }
  function labelledChips(key, chips) {
    return el('nav', { 'class': 'filters', 'aria-label': t(key) }, [el('span', { 'class': 'filters-label', 'aria-hidden': 'true', text: t(key) + ':' })].concat(chips));
  }
  function tagChips(filter) {
    var tags = Object.keys(ROOT.tags).sort(function (a, b) { return ROOT.tags[b] - ROOT.tags[a] || (a < b ? -1 : 1); });
    if (!tags.length) return null;
    return labelledChips('tags', tags.slice(0, 40).map(function (tag) {
      return chip(tag, '/tag/' + encodeURIComponent(tag), filter.tag === tag);
    }));
  }
  /* Languages, topics and years fold behind one control on a narrow screen, so the first screen shows articles. */
  var WIDE_SCREEN = '(min-width: 40rem)';
  function facetBox(filter) {
    var groups = [languageChips(filter), tagChips(filter), yearChips(filter)].filter(Boolean);
    var current = filter.tag || filter.year || (filter.lang ? LANG_NAMES[filter.lang] || filter.lang : '');
    var summary = el('summary', null, [t('filters') + (current ? ': ' + current : '')]);
    var box = el('details', { 'class': 'facets' }, [summary].concat(groups));
    if (window.matchMedia && window.matchMedia(WIDE_SCREEN).matches) box.open = true;
    return box;
  }

  /* One facet list ("tag:x" or "lang:ko") as article numbers in library order. */
  function facetIds(key) {
    var shard = fnv1a(key) % (ROOT.facet_shards || 1);
    return json('facet/' + pad(shard, 2)).then(function (table) {
      var deltas = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : [];
      var ids = new Array(deltas.length), id = 0;
      for (var i = 0; i < deltas.length; i++) { id += deltas[i]; ids[i] = id; }
      return ids;
    });
  }

  /* The article numbers a library view shows, as {length, at(i)}: all, one year (a range, since
   * the library is in date order), or a tag/language (a facet list, one small file). */
  function idSource(filter) {
    if (filter.tag || filter.lang) {
      return facetIds(filter.tag ? 'tag:' + filter.tag : 'lang:' + filter.lang).then(function (ids) {
        return { length: ids.length, at: function (k) { return ids[k]; } };
      });
    }
    var first = 0, count = ROOT.articles;
    if (filter.year) {
      var year = (ROOT.years || []).filter(function (y) { return String(y[0]) === filter.year; })[0];
      first = year ? year[1] : 0;
      count = year ? year[2] : 0;
    }
    return Promise.resolve({ length: count, at: function (k) { return first + k; } });
  }

  function yearChips(filter) {
    var years = ROOT.years || [];
    if (years.length < 2) return null;
    return labelledChips('years', years.map(function (y) {
      return chip(String(y[0]), '/year/' + y[0], filter.year === String(y[0]));
    }));
  }

  function showLibrary(filter, ctx) {
    var label = filter.tag || filter.year || (filter.lang ? LANG_NAMES[filter.lang] || filter.lang : '');
    var heading = el('h1', { text: label || ROOT.bundle.title });
    var intro = !label && ROOT.bundle.description ? el('p', { 'class': 'meta', text: ROOT.bundle.description }) : null;
    // A library split over several cards says which one this is; the list shows only its articles.
    var volume = ROOT.bundle.volume;
    var volumeLine = !label && volume ? el('p', { 'class': 'meta volume', text: t('volume', { n: volume[0], total: volume[1] }) }) : null;
    var countLine = el('p', { 'class': 'meta count' });
    var toolbar = el('div', { 'class': 'listbar' }, [countLine, comforts.randomButton(-1)]);
    var list = el('ul', { 'class': 'list' });
    var moreButton = el('button', { type: 'button', 'class': 'more', text: t('more'), hidden: '' });
    var status = el('div');
    show(ctx, [heading, volumeLine, intro, toolbar, facetBox(filter), list, status, moreButton]);
    var restore = ctx.restore;
    var next = 0;
    var busy = false;
    /* Rows load by themselves when "more" comes near the screen. A view the reader returns to must
     * show exactly the rows it showed, so after a return that happens only once "more" has been
     * off screen and comes back, never merely because the restored position is near the end. */
    var autoFill = !restore;
    function moreIsNear() {
      if (moreButton.hidden || !moreButton.isConnected) return false;
      var box = moreButton.getBoundingClientRect();
      return box.top < window.innerHeight + 600 && box.bottom > -600;
    }
    ctx.entry.countShown = function () { return next; };
    ctx.entry.onReturn = function () { autoFill = !moreIsNear(); };
    idSource(filter).then(function (ids) {
      ctx.entry.listIds = ids; // previous/next in an article follow this list
      countLine.textContent = countText('articles', ids.length);
      // Appending to a view the reader has left is harmless (its nodes wait for a return); only
      // a view dropped from the in-page history stops loading.
      function fillPage(atLeast) {
        if (busy || !alive(ctx)) return Promise.resolve();
        busy = true;
        var wanted = [];
        var stop = Math.max(next + PAGE, atLeast || 0);
        while (next < ids.length && next < stop) wanted.push(ids.at(next++));
        return Promise.all(wanted.map(function (id) {
          return entry(id).then(null, function (error) { return error; });
        })).then(function (rows) {
          var fragment = document.createDocumentFragment();
          var damaged = null;
          rows.forEach(function (row) {
            if (row instanceof Damage) damaged = row;
            else if (row) fragment.appendChild(listItem(row));
          });
          list.appendChild(fragment);
          if (damaged && !status.firstChild) status.appendChild(failureNotice('damagedList', damaged));
          moreButton.hidden = next >= ids.length;
          busy = false;
        });
      }
      function watchMore() {
        if (!('IntersectionObserver' in window)) return;
        new IntersectionObserver(function (entries) {
          if (!moreButton.isConnected) return; // detached: the reader is elsewhere
          if (!entries[0].isIntersecting) { autoFill = true; return; }
          if (autoFill && !moreButton.hidden) fillPage();
        }, { rootMargin: '600px' }).observe(moreButton);
      }
      moreButton.addEventListener('click', function () { fillPage(); });
      if (!restore) { watchMore(); fillPage(); return; }
      fillPage(restore.shown).then(function () {
        if (isCurrent(ctx)) { window.scrollTo(0, restore.scrollY); autoFill = !moreIsNear(); }
        watchMore();
      });
    }, function (error) {
      status.appendChild(failureNotice('damagedList', error));
    });
  }

  // ---------------------------------------------------------------- article
  /* "Back to the library" returns to the list view the reader came from (library, topic, year or
   * search results), as it was; an article opened directly has none, and the link opens the library. */
  function listLink() {
    var below = listViewBelow();
    var toResults = below >= 0 && parseRoute(stack[below].route).parts[0] === 'search';
    return el('a', { href: '#', 'data-back': 'list', text: '← ' + t(toResults ? 'backResults' : 'back') });
  }

  function showArticle(slug, ctx) {
    show(ctx, [el('p', { 'class': 'loading', text: t('loading') })]);
    var id = -1;
    idForSlug(slug).then(function (found) {
      id = found;
      if (id < 0) throw new Error('not found');
      return entry(id);
    }).then(function (row) {
      return articleHtml(row).then(function (html) { return [row, html]; }, function (error) { return [row, null, error]; });
    }).then(function (parts) {
      if (!alive(ctx)) return;
      var row = parts[0];
      var body = el('div', { 'class': 'body', lang: row[3] });
      if (parts[1] !== null) body.appendChild(articleNodes(parts[1]));
      else body.appendChild(failureNotice('damagedArticle', parts[2]));
      var toc = comforts.contents(body);
      if (toc) body.insertBefore(toc, body.firstChild);
      var tags = el('p', { 'class': 'filters' }, row[5].map(function (tag) { return chip(tag, '/tag/' + encodeURIComponent(tag)); }));
      var missing = ONE_FILE && ROOT.media_omitted && row[9].length ? notice(t('missingMedia')) : null;
      var article = el('article', { lang: row[3] }, [el('h1', { text: row[1] }), meta(row), tags, missing, body]);
      var more = el('div', { 'class': 'after' }, [comforts.randomButton(id)]);
      show(ctx, [el('p', null, [listLink()]), article, comforts.pager(id), more]);
      comforts.related(row, id).then(function (node) {
        if (node && alive(ctx)) more.insertBefore(node, more.firstChild);
      }, function () {});
      if (isCurrent(ctx)) {
        main.focus({ preventScroll: true });
        window.scrollTo(0, ctx.restore ? ctx.restore.scrollY : 0);
      }
    }).catch(function (error) {
      if (!alive(ctx)) return;
      var message = error instanceof Damage ? failureNotice('damagedArticle', error) : notice(t('notFound'));
      show(ctx, [message, el('p', null, [listLink()])]);
    });
  }

  /* Article HTML was sanitised at build time and its pack is hash-checked; it is parsed in an inert
   * document first so that, in the one-file variant, media can be removed before anything loads. */
  function articleNodes(html) {
    var doc = new DOMParser().parseFromString('<!DOCTYPE html><body>' + html, 'text/html');
    if (ONE_FILE && ROOT.media_omitted) dropMissingMedia(doc.body);
    neutraliseLinks(doc.body);
    comforts.captions(doc.body);
    var fragment = document.createDocumentFragment();
    while (doc.body.firstChild) fragment.appendChild(document.adoptNode(doc.body.firstChild));
    return fragment;
  }

  /* Links between articles are built as "#/a/<slug>" and footnotes as "#<id>". Either, left in the
   * href, could end up as an address in the history (a middle-click opens a tab at it), so each
   * becomes a bare "#" with its target kept in data-route or data-anchor. */
  function neutraliseLinks(body) {
    Array.prototype.forEach.call(body.querySelectorAll('a[href^="#"]'), function (node) {
      var target = node.getAttribute('href').slice(1);
      if (target.charAt(0) === '/') node.setAttribute('data-route', target);
      else node.setAttribute('data-anchor', target);
      node.setAttribute('href', '#');
    });
  }

  /* The one-file variant carries no media files: remove players and images that cannot load. */
  function dropMissingMedia(body) {
    Array.prototype.forEach.call(body.querySelectorAll('img, audio, video'), function (node) {
      var label = node.getAttribute('alt') || '';
      var holder = node.closest('figure') || node;
      var caption = holder.querySelector && holder.querySelector('figcaption');
      var text = label || (caption ? caption.textContent : '');
      holder.replaceWith(el('p', { 'class': 'meta', text: '[' + (text || node.tagName.toLowerCase()) + ']' }));
    });
  }

  // ---------------------------------------------------------------- search
  var engine = null;
  function searchEngine() {
    if (!engine && typeof InfopackSearch !== 'undefined' && ROOT.search && Object.keys(ROOT.search).length) {
      engine = InfopackSearch.create(ROOT.search, loadPayload, function (bytes) { return decompress(bytes); });
    }
    return engine;
  }

  function markMatches(node, text, query) {
    InfopackSearch.highlight(text, query).forEach(function (part) {
      node.appendChild(part.match ? el('mark', { text: part.text }) : document.createTextNode(part.text));
    });
    return node;
  }
  function highlighted(text, query) {
    return markMatches(el('p'), InfopackSearch.snippet ? InfopackSearch.snippet(text, query, 200) : text, query);
  }

  /* The summary is the first snippet; for the top results a window of the body around the match
   * replaces it once the article's text is decoded (a few ms each). */
  function improveSnippet(row, holder, query, ctx) {
    articleHtml(row).then(function (html) {
      if (!alive(ctx)) return;
      var text = new DOMParser().parseFromString(html, 'text/html').body.textContent || '';
      var better = highlighted(text, query);
      if (better.querySelector('mark') && !holder.querySelector('mark')) holder.replaceWith(better);
    }, function () {});
  }

  function showSearch(query, filter, ctx) {
    var heading = el('h1', { text: t('search') + (query ? ': ' + query : '') });
    var list = el('ul', { 'class': 'list' });
    var status = el('p', { 'class': 'meta', 'aria-live': 'polite' });
    var langChips = labelledChips('articleLanguage', [chip(t('all'), searchRoute(query, ''), !filter.lang)]
      .concat(Object.keys(ROOT.langs).map(function (code) { return chip(LANG_NAMES[code] || code, searchRoute(query, code), filter.lang === code); })));
    show(ctx, [heading, langChips, status, list]);
    var searcher = searchEngine();
    if (!searcher) { status.textContent = t('searchUnavailable'); return; }
    if (!query.trim()) return;
    status.textContent = t('loading');
    searcher.search(query, { lang: filter.lang || undefined, limit: 50 }).then(function (hits) {
      if (!alive(ctx)) return;
      status.textContent = hits.length ? countText('results', hits.length) : t('noResults');
      ctx.entry.listIds = { length: hits.length, at: function (k) { return hits[k].id; } };
      // The first rows appear as soon as their catalog entries are in; the rest follow in order.
      return showHits(hits.slice(0, 8), 0).then(function () { return showHits(hits.slice(8), 8); });
    }).then(function () {
      if (ctx.restore && isCurrent(ctx)) window.scrollTo(0, ctx.restore.scrollY);
    }).catch(function (error) {
      if (!alive(ctx)) return;
      status.textContent = '';
      list.appendChild(error instanceof Damage ? failureNotice('damagedList', error) : notice(t('error') + error.message));
    });

    function showHits(hits, offset) {
      return Promise.all(hits.map(function (hit) { return entry(hit.id); })).then(function (rows) {
        if (!alive(ctx)) return;
        rows.forEach(function (row, index) {
          if (!row) return;
          var snippet = highlighted(row[4] || row[1], query);
          var item = listItem(row, snippet);
          var title = item.querySelector('a.title');
          title.textContent = '';
          markMatches(title, row[1], query);
          list.appendChild(item);
          if (offset + index < 10) improveSnippet(row, snippet, query, ctx);
        });
      });
    }
  }
  function searchRoute(query, lang) {
    return '/search?q=' + encodeURIComponent(query) + (lang ? '&lang=' + encodeURIComponent(lang) : '');
  }

  // ---------------------------------------------------------------- card check
  function showCheck(ctx) {
    var names = Object.keys(ROOT.files);
    var status = el('p', { 'aria-live': 'polite' });
    var results = el('div');
    var start = el('button', { type: 'button', text: t('checkStart') });
    show(ctx, [el('h1', { text: t('check') }), el('p', { text: t('checkIntro') }), el('p', { 'class': 'notice', text: t('checkLimit') }),
      start, status, results, mediaCheck(ctx)]);
    start.addEventListener('click', function () {
      start.disabled = true;
      ctx.entry.keep = false; // a check cut short by leaving starts again on return
      var bad = [];
      var index = 0;
      (function next() {
        if (!isCurrent(ctx)) return;
        if (index >= names.length) { ctx.entry.keep = true; report(bad); return; }
        var name = names[index++];
        status.textContent = t('checking') + ' ' + index + ' / ' + names.length;
        // The data files themselves (never the spare copy): the check reports what is on the card.
        checkPayload(name, false, fetchEncoded(name)).then(next, function (error) { bad.push(error.name || name); next(); });
      })();
    });
    function report(bad) {
      status.textContent = bad.length ? t('checkBad', { bad: bad.length, n: names.length }) : t('checkOk', { n: names.length });
      if (!bad.length) return;
      results.appendChild(el('ul', null, bad.map(function (name) { return el('li', { text: new Damage(name, '').file }); })));
      affectedArticles(bad).then(function (rows) {
        if (!rows.length) return;
        results.appendChild(el('h2', { text: t('affected') }));
        results.appendChild(el('ul', { 'class': 'list' }, rows.map(function (row) { return el('li', { text: row[1] + ' (' + row[2] + ')' }); })));
      });
    }
  }

  /* Rows whose text lives in a damaged pack; damaged catalog shards are reported by file name. */
  function affectedArticles(bad) {
    var packs = {};
    var damagedCatalog = false;
    bad.forEach(function (name) {
      if (name.startsWith('text/')) packs[parseInt(name.slice(5), 10)] = true;
      if (name === 'dict') damagedCatalog = true; // every article needs the dictionary
    });
    var shards = Math.ceil(ROOT.articles / ROOT.catalog_shard_size);
    var found = [];
    var loaded = {}; // one load per pack, from the card's data files, however many articles ask
    function packOnCard(packName) {
      if (!loaded[packName]) loaded[packName] = checkPayload(packName, true, fetchEncoded(packName));
      return loaded[packName];
    }
    var chain = Promise.resolve();
    for (var s = 0; s < shards; s++) (function (shard) {
      chain = chain.then(function () {
        return json(catalogShardName(shard)).then(function (rows) {
          var inDamagedPacks = rows.filter(function (row) { return damagedCatalog || packs[row[6]]; });
          if (damagedCatalog) { found = found.concat(inDamagedPacks); return; }
          // A damaged pack costs only the articles whose own fingerprints fail.
          return Promise.all(inDamagedPacks.map(function (row) {
            var packName = 'text/' + pad(row[6], 4);
            return packOnCard(packName).then(function (pack) { return checkedFrame(packName, pack, row); })
              .then(function () { return null; }, function () { return row; });
          })).then(function (lost) { lost.forEach(function (row) { if (row) found.push(row); }); });
        }, function () {});
      });
    })(s);
    return chain.then(function () { return found; });
  }

  /* Media files cannot be read by this page (no fetch from file://), so the reader picks the card's
   * media folder and each file is compared with the size and SHA-256 of payload `media`
   * (docs/FORMAT.md section 7.1), one file at a time, with progress and a Stop button. */
  function mediaCheck(ctx) {
    if (!ROOT.files.media) return null;
    var box = el('section', { 'class': 'media-check' });
    var intro = el('p');
    var input = el('input', { type: 'file', id: 'media-check-input', multiple: '', webkitdirectory: '', hidden: '' });
    var button = el('button', { type: 'button', id: 'media-check-button', text: t('mediaButton') });
    var stop = el('button', { type: 'button', text: t('mediaCancel'), hidden: '' });
    var status = el('p', { 'aria-live': 'polite' });
    var list = el('ul');
    box.appendChild(el('h2', { text: t('mediaTitle') }));
    [intro, button, input, stop, status, list].forEach(function (node) { box.appendChild(node); });
    var expected = [];
    json('media').then(function (rows) {
      expected = rows;
      intro.textContent = t('mediaIntro', { n: rows.length });
    }, function (error) { intro.textContent = damageText('damagedList', error); button.disabled = true; });
    var cancelled = false;
    button.addEventListener('click', function () { input.click(); });
    stop.addEventListener('click', function () { cancelled = true; });
    input.addEventListener('change', function () {
      var picked = {};
      Array.prototype.forEach.call(input.files || [], function (file) { picked[file.name] = file; });
      input.value = '';
      list.textContent = '';
      cancelled = false;
      button.disabled = true;
      stop.hidden = false;
      ctx.entry.keep = false; // a check cut short by leaving starts again on return
      var bad = [];
      var index = 0;
      (function next() {
        if (!isCurrent(ctx)) return;
        if (cancelled || index >= expected.length) {
          button.disabled = false;
          stop.hidden = true;
          ctx.entry.keep = true;
          status.textContent = cancelled ? t('mediaCancelled', { i: index, n: expected.length })
            : bad.length ? t('mediaBad', { bad: bad.length, n: expected.length }) : t('mediaOk', { n: expected.length });
          bad.forEach(function (item) { list.appendChild(el('li', { text: item[0] + ': ' + t(item[1]) })); });
          return;
        }
        var row = expected[index++];
        status.textContent = t('mediaChecking', { i: index, n: expected.length });
        var file = picked[row[0].slice(row[0].lastIndexOf('/') + 1)];
        if (!file) { bad.push([row[0], 'mediaMissing']); next(); return; }
        if (file.size !== row[1]) { bad.push([row[0], 'mediaDamaged']); next(); return; }
        InfopackPack.sliceBytes(file, 0, file.size).then(sha256Hex).then(function (hex) {
          if (hex !== row[2]) bad.push([row[0], 'mediaDamaged']);
        }, function () { bad.push([row[0], 'mediaMissing']); }).then(next);
      })();
    });
    return box;
  }

  // ---------------------------------------------------------------- safety page
  /* Paragraphs; an entry starting with "## " is a section heading, "- " a step in a list. */
  var SAFETY = {
    en: ['Reading safely',
      'This library works with no internet connection and sends nothing anywhere. It stores nothing: no cookies, no saved settings.',
      'While you read, this page never changes its address or its title, and it adds nothing to the browser\'s Back list. The browser\'s history and saved tabs record only that this file was opened (its name and place on the card, and the library\'s name), not what you searched for or read.',
      'To go back to where you were, use the ← Back button at the top of the page. The browser\'s own Back button leaves the library.',
      '## On a computer (keyboard)',
      '- Read in a private window to leave no history at all: Ctrl+Shift+N in Chrome or Edge, Ctrl+Shift+P in Firefox.',
      '- Clear the history afterwards: Ctrl+Shift+Delete, then choose the time range and delete.',
      '- Go back inside the library: Alt+← (Backspace also works when you are not typing).',
      '- Close quickly: Ctrl+W closes the tab, Alt+F4 closes the browser.',
      '## On a phone (Android)',
      '- Read in a private tab: in Chrome, tap ⋮ (top right), then New Incognito tab, and open the file there. In Firefox, tap the mask icon on the home screen.',
      '- Clear Chrome\'s history afterwards: tap ⋮, then History, then Delete browsing data; choose a time range (for example Last hour), tick Browsing history, and tap Delete data.',
      '- In Firefox: tap ⋮, then Settings, then Delete browsing data.',
      '- Close quickly: tap the square tabs button and swipe the tab away, then remove the app from the recent apps list.',
      '## When you are done',
      'Remove the card. Files copied to a computer or phone stay there until deleted.'],
    ko: ['안전하게 읽기',
      '이 도서관은 인터넷 없이 작동하며 아무 곳에도 아무것도 보내지 않습니다. 쿠키나 저장된 설정 같은 것을 남기지 않습니다.',
      '읽는 동안 이 페이지는 주소도 제목도 바꾸지 않고, 브라우저의 "뒤로" 목록에 아무것도 더하지 않습니다. 브라우저의 방문 기록과 저장된 탭에는 이 파일을 열었다는 것(카드 안의 파일 이름과 위치, 도서관 이름)만 남고, 무엇을 검색하고 읽었는지는 남지 않습니다.',
      '보던 곳으로 돌아가려면 페이지 맨 위의 ← 뒤로 단추를 누르십시오. 브라우저 자체의 뒤로 단추를 누르면 도서관에서 나가게 됩니다.',
      '## 컴퓨터에서 (키보드)',
      '- 기록을 전혀 남기지 않으려면 시크릿 창에서 읽으십시오: 크롬과 엣지는 Ctrl+Shift+N, 파이어폭스는 Ctrl+Shift+P.',
      '- 읽은 뒤 방문 기록 지우기: Ctrl+Shift+Delete를 누르고 기간을 고른 뒤 삭제하십시오.',
      '- 도서관 안에서 뒤로 가기: Alt+← (글자를 입력하는 중이 아니면 Backspace 도 됩니다).',
      '- 빨리 닫기: Ctrl+W는 탭을, Alt+F4는 브라우저를 닫습니다.',
      '## 전화기에서 (안드로이드)',
      '- 시크릿 탭에서 읽기: 크롬에서 오른쪽 위의 ⋮ 를 누르고 "새 시크릿 탭"을 누른 뒤 그 탭에서 파일을 여십시오. 파이어폭스에서는 첫 화면의 가면 아이콘을 누르십시오.',
      '- 읽은 뒤 크롬 방문 기록 지우기: ⋮ → 방문 기록 → 인터넷 사용 기록 삭제를 누르고, 기간(예: 지난 1시간)을 고른 뒤 "인터넷 사용 기록"에 표시하고 "데이터 삭제"를 누르십시오.',
      '- 파이어폭스에서는: ⋮ → 설정 → 브라우징 데이터 삭제.',
      '- 빨리 닫기: 네모난 탭 단추를 눌러 탭을 밀어서 닫고, 최근 앱 목록에서도 앱을 지우십시오.',
      '## 다 읽은 뒤에는',
      '카드를 빼십시오. 컴퓨터나 전화기로 복사한 파일은 지울 때까지 남아 있습니다.']
  };
  function showSafety(ctx) {
    var text = SAFETY[uiLang];
    var nodes = [el('h1', { text: text[0] })];
    var steps = null;
    text.slice(1).forEach(function (line) {
      if (line.slice(0, 2) === '- ') {
        if (!steps) { steps = el('ul', { 'class': 'steps' }); nodes.push(steps); }
        steps.appendChild(el('li', { text: line.slice(2) }));
        return;
      }
      steps = null;
      nodes.push(line.slice(0, 3) === '## ' ? el('h2', { text: line.slice(3) }) : el('p', { text: line }));
    });
    show(ctx, nodes);
  }

  // ---------------------------------------------------------------- navigation (in memory only)
  /* Where the reader is lives only in this page's memory. The browser records every address a tab
   * visits and every page title (Chromium: History database, Sessions files; Firefox: places.sqlite,
   * session store), so the viewer never writes location.hash, never calls history.pushState or
   * replaceState, and never changes document.title. Its own back goes down `stack`, one entry per
   * view: {route, token, holder (the view's nodes, kept while the view is left), scrollY, shown
   * (list rows loaded), focus (the link that was followed)}. Going back reattaches the nodes, so
   * the same rows are shown at the same scroll position; views past KEEP_DOM are drawn again from
   * route, rows and position instead. */
  var STACK_LIMIT = 100; // views the in-page back can return to
  var KEEP_DOM = 12; // of those, views kept as live nodes (memory: an article can be large)
  var stack = [];
  var nextToken = 0;
  var routeToken = 0; // the token of the view on screen

  function current() { return stack[stack.length - 1]; }
  function isCurrent(ctx) { return ctx.token === routeToken; }
  /* Still reachable with the in-page back: worth finishing work for. */
  function alive(ctx) { return ctx.entry.holder === ctx.holder && stack.indexOf(ctx.entry) >= 0; }

  /* "/search?q=x&lang=ko" -> {parts: ['search'], params: {q: 'x', lang: 'ko'}}. */
  function parseRoute(text) {
    var path = text || '';
    var query = '';
    var q = path.indexOf('?');
    if (q >= 0) { query = path.slice(q + 1); path = path.slice(0, q); }
    var params = {};
    query.split('&').forEach(function (pair) {
      if (!pair) return;
      var eq = pair.indexOf('=');
      var key = eq < 0 ? pair : pair.slice(0, eq);
      try { params[key] = decodeURIComponent((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' ')); } catch (e) { params[key] = ''; }
    });
    var parts = path.split('/').filter(Boolean).map(function (p) { try { return decodeURIComponent(p); } catch (e) { return p; } });
    return { parts: parts, params: params };
  }
  function isListRoute(route) {
    var head = parseRoute(route).parts[0] || '';
    return head === '' || head === 'search' || head === 'tag' || head === 'lang' || head === 'year';
  }
  function listViewBelow() {
    for (var i = stack.length - 2; i >= 0; i--) if (isListRoute(stack[i].route)) return i;
    return -1;
  }

  /* Draw a stack entry afresh; `restore` ({scrollY, shown}) puts a view back as the reader left it. */
  function render(entry, restore) {
    var ctx = { entry: entry, token: ++nextToken, holder: el('div', { 'class': 'view' }), restore: restore || null };
    routeToken = entry.token = ctx.token;
    entry.holder = ctx.holder;
    entry.countShown = null;
    entry.onReturn = null;
    entry.keep = true;
    main.textContent = '';
    main.appendChild(ctx.holder);
    syncSearchBox(entry.route);
    if (!restore) window.scrollTo(0, 0);
    var r = parseRoute(entry.route);
    var head = r.parts[0] || '';
    if (head === 'a' && r.parts[1]) showArticle(r.parts[1], ctx);
    else if (head === 'search') showSearch(r.params.q || '', { lang: r.params.lang || '' }, ctx);
    else if (head === 'tag' && r.parts[1]) showLibrary({ tag: r.parts[1] }, ctx);
    else if (head === 'lang' && r.parts[1]) showLibrary({ lang: r.parts[1] }, ctx);
    else if (head === 'year' && r.parts[1]) showLibrary({ year: r.parts[1] }, ctx);
    else if (head === 'check') showCheck(ctx);
    else if (head === 'safety') { showSafety(ctx); if (restore) window.scrollTo(0, restore.scrollY); }
    else showLibrary({}, ctx);
  }

  function pauseMedia(root) {
    Array.prototype.forEach.call(root.querySelectorAll('audio, video'), function (node) { node.pause(); });
  }

  /* Remember how the view on screen looks before another replaces it. */
  function leave() {
    var entry = current();
    if (!entry) return;
    entry.scrollY = window.pageYOffset;
    entry.shown = entry.countShown ? entry.countShown() : 0;
    var active = document.activeElement;
    entry.focus = entry.holder && active && entry.holder.contains(active) ? active : null;
    if (entry.holder) pauseMedia(entry.holder); // a detached player would go on playing
    if (!entry.keep) entry.holder = null;
  }

  function navigate(route, replace) {
    // A search still waiting for the typist to pause must not fire after the reader has moved on.
    clearTimeout(searchTimer);
    var top = current();
    if (top && top.route === route) return;
    leave();
    if (replace && top) stack.pop();
    stack.push({ route: route });
    while (stack.length > STACK_LIMIT) stack.shift();
    var kept = 0;
    for (var i = stack.length - 1; i >= 0; i--) if (stack[i].holder && ++kept > KEEP_DOM) stack[i].holder = null;
    render(current());
    updateBackButton();
  }

  function returnTo(entry) {
    if (!entry.holder) {
      render(entry, { scrollY: entry.scrollY || 0, shown: entry.shown || 0 });
    } else {
      routeToken = entry.token;
      main.textContent = '';
      main.appendChild(entry.holder);
      syncSearchBox(entry.route);
      window.scrollTo(0, entry.scrollY || 0);
      if (entry.onReturn) entry.onReturn();
    }
    var target = entry.focus && entry.focus.isConnected ? entry.focus : main;
    target.focus({ preventScroll: true });
    updateBackButton();
  }

  /* The in-page back. False when there is nowhere to go back to in the page. */
  function goBack() {
    if (stack.length < 2) return false;
    pauseMedia(main);
    stack.pop();
    returnTo(current());
    return true;
  }

  function backToList() {
    var index = listViewBelow();
    if (index < 0) { navigate('/'); return; }
    pauseMedia(main);
    stack.length = index + 1;
    returnTo(current());
  }

  /* Draw the view on screen again (after a language switch); the others are drawn again on return. */
  function redraw() {
    var entry = current();
    var restore = { scrollY: window.pageYOffset, shown: entry.countShown ? entry.countShown() : 0 };
    pauseMedia(main);
    stack.forEach(function (other) { if (other !== entry) other.holder = null; });
    render(entry, restore);
  }

  function updateBackButton() {
    document.getElementById('back-button').disabled = stack.length < 2;
  }

  /* The search box shows the query of a search view and is emptied on list views, so a query does
   * not linger on screen after the reader has left its results. */
  function syncSearchBox(route) {
    var input = document.getElementById('search-input');
    if (document.activeElement === input) return;
    var r = parseRoute(route);
    if (r.parts[0] === 'search') input.value = r.params.q || '';
    else if (isListRoute(route)) input.value = '';
  }

  /* Any link to "#..." is followed in the page: a route, a footnote or the skip link. */
  function follow(node) {
    var route = node.getAttribute('data-route');
    if (route !== null) { navigate(route); return; }
    if (node.hasAttribute('data-back')) { backToList(); return; }
    var target = node.getAttribute('data-anchor');
    if (target === null) {
      target = (node.getAttribute('href') || '').slice(1);
      try { target = decodeURIComponent(target); } catch (e) { /* keep it as written */ }
    }
    if (target.charAt(0) === '/') { navigate(target); return; }
    var spot = target && document.getElementById(target);
    if (!spot) return;
    spot.scrollIntoView();
    if (spot === main || spot.tabIndex >= 0) spot.focus({ preventScroll: true });
  }

  /* An address with a route in it (an old bookmark, or a link someone made to an article) is
   * honoured when the page opens or when that address is entered; the viewer only reads it. */
  function routeInAddress() {
    var hash = location.hash.replace(/^#/, '');
    return hash.charAt(0) === '/' ? hash : null;
  }

  // ---------------------------------------------------------------- chrome: search box, language, font size, keys
  function applyUiStrings() {
    document.documentElement.lang = uiLang;
    var input = document.getElementById('search-input');
    input.placeholder = t('searchPlaceholder');
    var switcher = document.getElementById('lang-switch');
    switcher.textContent = t('uiLanguage') + ': ';
    switcher.appendChild(el('span', { lang: uiLang === 'ko' ? 'en' : 'ko', text: t('switchTo') }));
    switcher.lang = uiLang;
    switcher.title = t('uiLanguageTitle');
    document.getElementById('back-label').textContent = t('goBack');
    document.getElementById('back-button').title = t('goBack') + ' (Alt+←)';
    document.getElementById('safety-link').textContent = t('safety');
    document.getElementById('check-link').textContent = t('check');
  }

  var searchTimer = 0;
  var IS_MAC = /Mac|iP(hone|ad|od)/.test(navigator.platform || '');
  function wireChrome() {
    var input = document.getElementById('search-input');
    var form = document.getElementById('search-form');
    var suggestions = comforts.wireSuggestions(input, document.getElementById('search-suggestions'));
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      suggestions.close();
      clearTimeout(searchTimer);
      goSearch(input.value);
    });
    input.addEventListener('input', function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { goSearch(input.value); }, 180);
    });
    document.getElementById('back-button').addEventListener('click', goBack);
    document.getElementById('lang-switch').addEventListener('click', function () {
      uiLang = uiLang === 'ko' ? 'en' : 'ko'; // kept in memory only: nothing is stored
      applyUiStrings();
      redraw();
    });
    var scale = 1;
    function setScale(next) {
      scale = Math.max(0.8, Math.min(1.8, next));
      document.documentElement.style.setProperty('--size', (1.0625 * scale).toFixed(3) + 'rem');
    }
    document.getElementById('font-smaller').addEventListener('click', function () { setScale(scale - 0.1); });
    document.getElementById('font-larger').addEventListener('click', function () { setScale(scale + 0.1); });

    // Every "#" link, with any modifier or the middle button: a new tab or window would put an
    // address in the history, so the link is followed here instead.
    function onLink(event) {
      var node = event.target && event.target.closest ? event.target.closest('a[href^="#"], a[data-route], a[data-back]') : null;
      if (!node) return;
      event.preventDefault();
      follow(node);
    }
    document.addEventListener('click', onLink);
    document.addEventListener('auxclick', function (event) { if (event.button === 1) onLink(event); });
    // A mouse's back button would leave the library like the browser's Back.
    window.addEventListener('mouseup', function (event) { if (event.button === 3 && goBack()) event.preventDefault(); });

    document.addEventListener('keydown', function (event) {
      var target = event.target || {};
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || '') || !!target.isContentEditable;
      if (event.key === 'Escape' && typing) { target.blur(); return; }
      var onlyAlt = event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey;
      // Alt+Left is the browser's Back, which would leave the page; on a Mac in a text field it
      // moves the cursor by a word and is left alone.
      if (onlyAlt && event.key === 'ArrowLeft' && !(typing && IS_MAC)) {
        if (goBack()) event.preventDefault();
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'Backspace' && !event.shiftKey) {
        if (goBack()) event.preventDefault();
      } else if (event.key === '/') {
        event.preventDefault();
        input.focus();
      } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
        var node = main.querySelector('.pager a[rel="' + (event.key === 'ArrowLeft' ? 'prev' : 'next') + '"]');
        if (node) navigate(node.getAttribute('data-route'));
      }
    });
  }

  /* Typing refines the search on screen in place (one back step, not one per keystroke). */
  function goSearch(query) {
    var top = current();
    var r = top ? parseRoute(top.route) : { parts: [], params: {} };
    var onSearch = r.parts[0] === 'search';
    navigate(searchRoute(query, onSearch ? r.params.lang || '' : ''), onSearch);
  }

  /* What comforts.js may use of the viewer (see its header). */
  var comforts = null;
  function comfortsApi() {
    return {
      el: el, link: link, t: t, lang: function () { return uiLang; }, entry: entry, facet: facetIds,
      articleRoute: articleRoute, articleCount: function () { return ROOT.articles; }, navigate: navigate,
      searchEngine: searchEngine, markMatches: markMatches,
      listBelow: function () { var i = listViewBelow(); return i >= 0 ? stack[i].listIds || null : null; }
    };
  }

  function start() {
    comforts = InfopackComforts.install(comfortsApi());
    if (ONE_FILE) collectInlinePayloads();
    applyUiStrings();
    wireChrome();
    window.addEventListener('hashchange', function () {
      var route = routeInAddress();
      if (route !== null && (packReader || !ROOT.needs_pack)) navigate(route);
    });
    // phone.html of a library too big to sit inline: nothing to show until library.pack is picked.
    if (ROOT.needs_pack && !packReader) {
      main.textContent = '';
      main.appendChild(el('h1', { text: ROOT.bundle.title }));
      main.appendChild(packPicker('packIntro'));
      return;
    }
    navigate(routeInAddress() || '/');
  }
  // In the one-file variant the data scripts follow this one: wait until they have all run.
  if (ONE_FILE && document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
