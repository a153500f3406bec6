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
      library: 'Library', articles: 'articles', all: 'All', more: 'Show more', back: 'Back to the library',
      previous: 'Previous', next: 'Next', search: 'Search', searchPlaceholder: 'Search this library',
      results: 'results', noResults: 'Nothing found.', notFound: 'There is no article with this address.',
      damagedArticle: 'This article cannot be read: part of this card is damaged or missing ({file}). Other articles still work.',
      damagedList: 'Part of this card is damaged or missing ({file}). The list may be incomplete.',
      check: 'Check this card', checkIntro: 'Checks every data file of this library against the fingerprint recorded when it was made. Nothing leaves this device.',
      checkStart: 'Start check', checking: 'Checking', checkOk: 'All {n} data files are intact.',
      checkBad: '{bad} of {n} data files are damaged or missing:', affected: 'Articles that cannot be read:',
      safety: 'Reading safely', language: 'Language', tags: 'Topics', years: 'Years', searchUnavailable: 'Search is not available in this library.',
      switchTo: '한국어', missingMedia: 'Images, audio and video are not included in this single file. Open index.html on the card to see them.',
      loading: 'Loading…', error: 'Something went wrong: ', volume: 'Volume {n} of {total}',
      openPhone: 'This browser cannot read the library\'s other files from here (phones often open only one file). Open phone.html from the same card instead: it holds the whole library in one file.'
    },
    ko: {
      library: '도서관', articles: '개의 글', all: '전체', more: '더 보기', back: '목록으로 돌아가기',
      previous: '이전 글', next: '다음 글', search: '검색', searchPlaceholder: '이 도서관에서 검색',
      results: '개의 결과', noResults: '찾은 글이 없습니다.', notFound: '이 주소의 글이 없습니다.',
      damagedArticle: '이 글을 읽을 수 없습니다. 카드의 일부가 손상되었거나 없습니다 ({file}). 다른 글은 읽을 수 있습니다.',
      damagedList: '카드의 일부가 손상되었거나 없습니다 ({file}). 목록이 완전하지 않을 수 있습니다.',
      check: '카드 검사', checkIntro: '이 도서관의 모든 자료 파일을 만들 때 기록한 지문과 비교합니다. 아무것도 이 기기 밖으로 나가지 않습니다.',
      checkStart: '검사 시작', checking: '검사 중', checkOk: '자료 파일 {n}개가 모두 온전합니다.',
      checkBad: '자료 파일 {n}개 중 {bad}개가 손상되었거나 없습니다:', affected: '읽을 수 없는 글:',
      safety: '안전하게 읽기', language: '언어', tags: '주제', years: '연도', searchUnavailable: '이 도서관에서는 검색을 쓸 수 없습니다.',
      switchTo: 'English', missingMedia: '이 한 파일에는 그림, 소리, 동영상이 들어 있지 않습니다. 카드의 index.html을 열면 볼 수 있습니다.',
      loading: '불러오는 중…', error: '문제가 생겼습니다: ', volume: '전체 {total}권 중 {n}권',
      openPhone: '이 브라우저는 여기에서 도서관의 다른 파일을 읽을 수 없습니다(전화기는 흔히 파일 하나만 엽니다). 같은 카드에 있는 phone.html을 여십시오. 도서관 전체가 그 파일 하나에 들어 있습니다.'
    }
  };
  var LANG_NAMES = { ko: '한국어', en: 'English', ja: '日本語', zh: '中文', ru: 'Русский' };
  var uiLang = pickUiLang();

  function pickUiLang() {
    if (ROOT.bundle.lang === 'ko' || ROOT.bundle.lang === 'en') return ROOT.bundle.lang;
    return (navigator.language || '').slice(0, 2) === 'ko' ? 'ko' : 'en';
  }
  function t(key, values) {
    var text = STRINGS[uiLang][key] || STRINGS.en[key] || key;
    if (values) for (var name in values) text = text.split('{' + name + '}').join(String(values[name]));
    return text;
  }

  // ---------------------------------------------------------------- data files
  function Damage(name, reason) {
    this.name = name;
    this.reason = reason;
    this.message = 'data/' + name + '.js: ' + reason;
  }

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
    if (Object.prototype.hasOwnProperty.call(arrived, name)) {
      var early = arrived[name];
      // Inline payloads are the only copy in the one-file variant: keep them for the card check.
      if (!ONE_FILE) delete arrived[name];
      return Promise.resolve(early);
    }
    if (ONE_FILE) return Promise.reject(new Damage(name, 'missing'));
    return new Promise(function (resolve, reject) {
      pending[name] = { resolve: resolve, reject: reject };
      var script = document.createElement('script');
      script.src = 'data/' + name + '.js';
      script.charset = 'utf-16'; // the file's byte order mark decides in any case
      script.onload = function () {
        script.remove();
        // Loaded but never called infopackData with its name: the file is damaged.
        if (pending[name]) { delete pending[name]; reject(new Damage(name, 'damaged')); }
      };
      script.onerror = function () {
        script.remove();
        delete pending[name];
        reject(new Damage(name, 'missing'));
      };
      document.head.appendChild(script);
    });
  }

  /* Two bytes per UTF-16 code unit, little-endian (docs/FORMAT.md section 2). */
  function decodeUnits(name, text, length) {
    if (text.length !== (length + 1) >> 1) throw new Damage(name, 'damaged');
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

  /* Load, decode and check one payload; never cached when `forCheck` (the card check reads all). */
  function loadChecked(name) {
    var expected = ROOT.files[name];
    if (!expected) return Promise.reject(new Damage(name, 'missing'));
    return fetchEncoded(name).then(function (encoded) {
      var bytes = encoded.units !== undefined
        ? decodeUnits(name, encoded.units, expected[0]) : decodeBase64(name, encoded.base64);
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
    var promise = loadChecked(name);
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
  function articleHtml(row) {
    var packName = 'text/' + pad(row[6], 4);
    return Promise.all([loadPayload(packName), dictionary()]).then(function (parts) {
      var frame = parts[0].subarray(row[7], row[7] + row[8]);
      return utf8.decode(decompress(frame, parts[1]));
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
  function show(nodes, title) {
    main.textContent = '';
    nodes.forEach(function (node) { if (node) main.appendChild(node); });
    document.title = title ? title + ' · ' + ROOT.bundle.title : ROOT.bundle.title;
  }
  function notice(text) { return el('div', { 'class': 'notice', role: 'alert', text: text }); }
  function damageText(key, error) {
    return t(key, { file: error && error.name ? 'data/' + error.name + '.js' : String(error) });
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
    if (error instanceof Damage && error.reason === 'missing') {
      siblingsReachable().then(function (reachable) { if (!reachable) node.textContent = t('openPhone'); });
    }
    return node;
  }
  function meta(row) {
    var parts = [row[2], LANG_NAMES[row[3]] || row[3]];
    return el('p', { 'class': 'meta' }, [parts.join(' · ')]);
  }
  function chip(label, href, current) {
    var attributes = { 'class': 'chip', href: href, text: label };
    if (current) attributes['aria-current'] = 'true';
    return el('a', attributes);
  }
  function articleLink(row) { return '#/a/' + encodeURIComponent(row[0]); }
  function listItem(row, snippetNode) {
    return el('li', null, [
      el('a', { 'class': 'title', href: articleLink(row), lang: row[3], text: row[1] }),
      meta(row),
      snippetNode || (row[4] ? el('p', { lang: row[3], text: row[4] }) : null)
    ]);
  }

  // ---------------------------------------------------------------- library
  function filterChips(filter) {
    var chips = [chip(t('all'), '#/', !filter.tag && !filter.lang && !filter.year)];
    Object.keys(ROOT.langs).forEach(function (code) {
      chips.push(chip((LANG_NAMES[code] || code) + ' ' + ROOT.langs[code], '#/lang/' + code, filter.lang === code));
    });
    var tags = Object.keys(ROOT.tags).sort(function (a, b) { return ROOT.tags[b] - ROOT.tags[a] || (a < b ? -1 : 1); });
    tags.slice(0, 40).forEach(function (tag) {
      chips.push(chip(tag, '#/tag/' + encodeURIComponent(tag), filter.tag === tag));
    });
    return el('nav', { 'class': 'filters', 'aria-label': t('tags') }, chips);
  }

  /* The article numbers a library view shows, as {length, at(i)}: all, one year (a range, since
   * the library is in date order), or a tag/language (a facet list, one small file). */
  function idSource(filter) {
    if (filter.tag || filter.lang) {
      var key = filter.tag ? 'tag:' + filter.tag : 'lang:' + filter.lang;
      var shard = fnv1a(key) % (ROOT.facet_shards || 1);
      return json('facet/' + pad(shard, 2)).then(function (table) {
        var deltas = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : [];
        var ids = new Array(deltas.length), id = 0;
        for (var i = 0; i < deltas.length; i++) { id += deltas[i]; ids[i] = id; }
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
    return el('nav', { 'class': 'filters', 'aria-label': t('years') }, years.map(function (y) {
      return chip(String(y[0]), '#/year/' + y[0], filter.year === String(y[0]));
    }));
  }

  function showLibrary(filter, token) {
    var label = filter.tag || filter.year || (filter.lang ? LANG_NAMES[filter.lang] || filter.lang : '');
    var heading = el('h1', { text: label || ROOT.bundle.title });
    var intro = !label && ROOT.bundle.description ? el('p', { 'class': 'meta', text: ROOT.bundle.description }) : null;
    // A library split over several cards says which one this is; the list shows only its articles.
    var volume = ROOT.bundle.volume;
    var volumeLine = !label && volume ? el('p', { 'class': 'meta volume', text: t('volume', { n: volume[0], total: volume[1] }) }) : null;
    var count = el('p', { 'class': 'meta' });
    var list = el('ul', { 'class': 'list' });
    var moreButton = el('button', { type: 'button', text: t('more'), hidden: '' });
    var status = el('div');
    show([heading, volumeLine, intro, count, filterChips(filter), yearChips(filter), list, status, moreButton], label);
    var next = 0;
    var busy = false;
    idSource(filter).then(function (ids) {
      if (token !== routeToken) return;
      count.textContent = ids.length + ' ' + t('articles');
      function fillPage() {
        if (busy || token !== routeToken) return;
        busy = true;
        var wanted = [];
        while (next < ids.length && wanted.length < PAGE) wanted.push(ids.at(next++));
        Promise.all(wanted.map(function (id) {
          return entry(id).then(null, function (error) { return error; });
        })).then(function (rows) {
          if (token !== routeToken) return;
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
      moreButton.addEventListener('click', fillPage);
      if ('IntersectionObserver' in window) {
        new IntersectionObserver(function (entries) {
          if (entries[0].isIntersecting && !moreButton.hidden) fillPage();
        }, { rootMargin: '600px' }).observe(moreButton);
      }
      fillPage();
    }, function (error) {
      status.appendChild(failureNotice('damagedList', error));
    });
  }

  // ---------------------------------------------------------------- article
  function showArticle(slug, token) {
    show([el('p', { 'class': 'loading', text: t('loading') })]);
    var id = -1;
    idForSlug(slug).then(function (found) {
      id = found;
      if (id < 0) throw new Error('not found');
      return entry(id);
    }).then(function (row) {
      return articleHtml(row).then(function (html) { return [row, html]; }, function (error) { return [row, null, error]; });
    }).then(function (parts) {
      if (token !== routeToken) return;
      var row = parts[0];
      var body = el('div', { 'class': 'body', lang: row[3] });
      if (parts[1] !== null) body.appendChild(articleNodes(parts[1]));
      else body.appendChild(failureNotice('damagedArticle', parts[2]));
      var tags = el('p', { 'class': 'filters' }, row[5].map(function (tag) { return chip(tag, '#/tag/' + encodeURIComponent(tag)); }));
      var missing = ONE_FILE && ROOT.media_omitted && row[9].length ? notice(t('missingMedia')) : null;
      var article = el('article', { lang: row[3] }, [el('h1', { text: row[1] }), meta(row), tags, missing, body]);
      show([el('p', null, [el('a', { href: '#/', text: '← ' + t('back') })]), article, pager(id)], row[1]);
      main.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }).catch(function (error) {
      if (token !== routeToken) return;
      var message = error instanceof Damage ? failureNotice('damagedArticle', error) : notice(t('notFound'));
      show([message, el('p', null, [el('a', { href: '#/', text: t('back') })])]);
    });
  }

  /* Article HTML was sanitised at build time and its pack is hash-checked; it is parsed in an inert
   * document first so that, in the one-file variant, media can be removed before anything loads. */
  function articleNodes(html) {
    var doc = new DOMParser().parseFromString('<!DOCTYPE html><body>' + html, 'text/html');
    if (ONE_FILE && ROOT.media_omitted) dropMissingMedia(doc.body);
    var fragment = document.createDocumentFragment();
    while (doc.body.firstChild) fragment.appendChild(document.adoptNode(doc.body.firstChild));
    return fragment;
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

  function pager(id) {
    var nav = el('nav', { 'class': 'pager', 'aria-label': t('previous') + ' / ' + t('next') });
    [[id - 1, 'previous', '← '], [id + 1, 'next', '']].forEach(function (spec) {
      if (spec[0] < 0 || spec[0] >= ROOT.articles) { nav.appendChild(el('span')); return; }
      entry(spec[0]).then(function (row) {
        var label = spec[1] === 'previous' ? '← ' + row[1] : row[1] + ' →';
        var link = el('a', { href: articleLink(row), rel: spec[1] === 'previous' ? 'prev' : 'next', text: label });
        if (spec[1] === 'previous') nav.insertBefore(link, nav.firstChild); else nav.appendChild(link);
      }, function () {});
    });
    return nav;
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
  function improveSnippet(row, holder, query, token) {
    articleHtml(row).then(function (html) {
      if (token !== routeToken) return;
      var text = new DOMParser().parseFromString(html, 'text/html').body.textContent || '';
      var better = highlighted(text, query);
      if (better.querySelector('mark') && !holder.querySelector('mark')) holder.replaceWith(better);
    }, function () {});
  }

  function showSearch(query, filter, token) {
    var input = document.getElementById('search-input');
    if (document.activeElement !== input) input.value = query;
    var heading = el('h1', { text: t('search') + (query ? ': ' + query : '') });
    var list = el('ul', { 'class': 'list' });
    var status = el('p', { 'class': 'meta', 'aria-live': 'polite' });
    var langChips = el('nav', { 'class': 'filters', 'aria-label': t('language') }, [chip(t('all'), searchHref(query, ''), !filter.lang)]
      .concat(Object.keys(ROOT.langs).map(function (code) { return chip(LANG_NAMES[code] || code, searchHref(query, code), filter.lang === code); })));
    show([heading, langChips, status, list], t('search'));
    var searcher = searchEngine();
    if (!searcher) { status.textContent = t('searchUnavailable'); return; }
    if (!query.trim()) return;
    status.textContent = t('loading');
    searcher.search(query, { lang: filter.lang || undefined, limit: 50 }).then(function (hits) {
      if (token !== routeToken) return;
      status.textContent = hits.length ? hits.length + ' ' + t('results') : t('noResults');
      // The first rows appear as soon as their catalog entries are in; the rest follow in order.
      return showHits(hits.slice(0, 8), 0).then(function () { return showHits(hits.slice(8), 8); });
    }).catch(function (error) {
      if (token !== routeToken) return;
      status.textContent = '';
      list.appendChild(error instanceof Damage ? failureNotice('damagedList', error) : notice(t('error') + error.message));
    });

    function showHits(hits, offset) {
      return Promise.all(hits.map(function (hit) { return entry(hit.id); })).then(function (rows) {
        if (token !== routeToken) return;
        rows.forEach(function (row, index) {
          if (!row) return;
          var snippet = highlighted(row[4] || row[1], query);
          var item = listItem(row, snippet);
          var title = item.querySelector('a.title');
          title.textContent = '';
          markMatches(title, row[1], query);
          list.appendChild(item);
          if (offset + index < 10) improveSnippet(row, snippet, query, token);
        });
      });
    }
  }
  function searchHref(query, lang) {
    return '#/search?q=' + encodeURIComponent(query) + (lang ? '&lang=' + encodeURIComponent(lang) : '');
  }

  // ---------------------------------------------------------------- card check
  function showCheck(token) {
    var names = Object.keys(ROOT.files);
    var status = el('p', { 'aria-live': 'polite' });
    var results = el('div');
    var start = el('button', { type: 'button', text: t('checkStart') });
    show([el('h1', { text: t('check') }), el('p', { text: t('checkIntro') }), start, status, results], t('check'));
    start.addEventListener('click', function () {
      start.disabled = true;
      var bad = [];
      var index = 0;
      (function next() {
        if (token !== routeToken) return;
        if (index >= names.length) { report(bad); return; }
        var name = names[index++];
        status.textContent = t('checking') + ' ' + index + ' / ' + names.length;
        loadChecked(name).then(next, function (error) { bad.push(error.name || name); next(); });
      })();
    });
    function report(bad) {
      status.textContent = bad.length ? t('checkBad', { bad: bad.length, n: names.length }) : t('checkOk', { n: names.length });
      if (!bad.length) return;
      results.appendChild(el('ul', null, bad.map(function (name) { return el('li', { text: 'data/' + name + '.js' }); })));
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
    var chain = Promise.resolve();
    for (var s = 0; s < shards; s++) (function (shard) {
      chain = chain.then(function () {
        return json(catalogShardName(shard)).then(function (rows) {
          rows.forEach(function (row) { if (damagedCatalog || packs[row[6]]) found.push(row); });
        }, function () {});
      });
    })(s);
    return chain.then(function () { return found; });
  }

  // ---------------------------------------------------------------- safety page
  var SAFETY = {
    en: ['Reading safely',
      'This library works with no internet connection and sends nothing anywhere. It stores nothing: no cookies, no saved settings.',
      'Your browser\'s history can still remember which pages you opened. Use a private window (Ctrl+Shift+N in Chrome, Ctrl+Shift+P in Firefox) to read, or clear the history afterwards (Ctrl+Shift+Delete).',
      'To close quickly: press Ctrl+W to close the tab, or Alt+F4 to close the browser. On a phone, close the tab from the tab list.',
      'Remove the card when you are done. Files copied to the computer stay there until deleted.'],
    ko: ['안전하게 읽기',
      '이 도서관은 인터넷 없이 작동하며 아무 곳에도 아무것도 보내지 않습니다. 쿠키나 저장된 설정 같은 것을 남기지 않습니다.',
      '그러나 브라우저의 방문 기록에는 어떤 페이지를 열었는지 남을 수 있습니다. 시크릿 창(크롬: Ctrl+Shift+N, 파이어폭스: Ctrl+Shift+P)에서 읽거나, 읽은 뒤 방문 기록을 지우십시오(Ctrl+Shift+Delete).',
      '빨리 닫으려면: Ctrl+W를 누르면 탭이 닫히고, Alt+F4를 누르면 브라우저가 닫힙니다. 전화기에서는 탭 목록에서 탭을 닫으십시오.',
      '다 읽은 뒤에는 카드를 빼십시오. 컴퓨터로 복사한 파일은 지울 때까지 남아 있습니다.']
  };
  function showSafety() {
    var text = SAFETY[uiLang];
    show([el('h1', { text: text[0] })].concat(text.slice(1).map(function (p) { return el('p', { text: p }); })), text[0]);
  }

  // ---------------------------------------------------------------- routing
  var routeToken = 0;
  function parseRoute() {
    var hash = location.hash.replace(/^#/, '');
    var query = '';
    var q = hash.indexOf('?');
    if (q >= 0) { query = hash.slice(q + 1); hash = hash.slice(0, q); }
    var params = {};
    query.split('&').forEach(function (pair) {
      if (!pair) return;
      var eq = pair.indexOf('=');
      var key = eq < 0 ? pair : pair.slice(0, eq);
      try { params[key] = decodeURIComponent((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' ')); } catch (e) { params[key] = ''; }
    });
    var parts = hash.split('/').filter(Boolean).map(function (p) { try { return decodeURIComponent(p); } catch (e) { return p; } });
    return { parts: parts, params: params };
  }

  function route() {
    var token = ++routeToken;
    var r = parseRoute();
    var head = r.parts[0] || '';
    if (head === 'a' && r.parts[1]) showArticle(r.parts[1], token);
    else if (head === 'search') showSearch(r.params.q || '', { lang: r.params.lang || '' }, token);
    else if (head === 'tag' && r.parts[1]) showLibrary({ tag: r.parts[1] }, token);
    else if (head === 'lang' && r.parts[1]) showLibrary({ lang: r.parts[1] }, token);
    else if (head === 'year' && r.parts[1]) showLibrary({ year: r.parts[1] }, token);
    else if (head === 'check') showCheck(token);
    else if (head === 'safety') showSafety();
    else showLibrary({}, token);
  }

  // ---------------------------------------------------------------- chrome: search box, language, font size, keys
  function applyUiStrings() {
    document.documentElement.lang = uiLang;
    var input = document.getElementById('search-input');
    input.placeholder = t('searchPlaceholder');
    var switcher = document.getElementById('lang-switch');
    switcher.textContent = t('switchTo');
    switcher.lang = uiLang === 'ko' ? 'en' : 'ko';
    document.getElementById('safety-link').textContent = t('safety');
    document.getElementById('check-link').textContent = t('check');
  }

  var searchTimer = 0;
  function wireChrome() {
    var input = document.getElementById('search-input');
    var form = document.getElementById('search-form');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearTimeout(searchTimer);
      goSearch(input.value, false);
    });
    input.addEventListener('input', function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { goSearch(input.value, true); }, 180);
    });
    document.getElementById('lang-switch').addEventListener('click', function () {
      uiLang = uiLang === 'ko' ? 'en' : 'ko'; // kept in memory only: nothing is stored
      applyUiStrings();
      route();
    });
    var scale = 1;
    function setScale(next) {
      scale = Math.max(0.8, Math.min(1.8, next));
      document.documentElement.style.setProperty('--size', (1.0625 * scale).toFixed(3) + 'rem');
    }
    document.getElementById('font-smaller').addEventListener('click', function () { setScale(scale - 0.1); });
    document.getElementById('font-larger').addEventListener('click', function () { setScale(scale + 0.1); });
    document.addEventListener('keydown', function (event) {
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target && event.target.tagName) || '');
      if (event.key === 'Escape' && typing) { event.target.blur(); return; }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === '/') { event.preventDefault(); input.focus(); }
      else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
        var link = document.querySelector('.pager a[rel="' + (event.key === 'ArrowLeft' ? 'prev' : 'next') + '"]');
        if (link) location.hash = link.getAttribute('href');
      }
    });
  }

  function goSearch(query, typing) {
    var target = searchHref(query, parseRoute().params.lang || '');
    // While typing, replace the current history entry instead of adding one per keystroke.
    if (typing && location.hash.indexOf('#/search') === 0) history.replaceState(null, '', target);
    else { location.hash = target; return; }
    route();
  }

  function start() {
    if (ONE_FILE) collectInlinePayloads();
    applyUiStrings();
    wireChrome();
    window.addEventListener('hashchange', route);
    route();
  }
  // In the one-file variant the data scripts follow this one: wait until they have all run.
  if (ONE_FILE && document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
