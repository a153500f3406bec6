/* infopack viewer comforts (issue 15): contents for long articles, related articles, previous/next
 * in the list the reader came from, a random article, title suggestions under the search box, and
 * visible captions for images.
 *
 * A classic script defining one global, InfopackComforts. viewer.js calls install(api) once and
 * gets the functions below; `api` hands over what they need from the viewer (DOM helpers, the
 * catalog, navigation), so this file reads no data of its own and holds no state of the library.
 * Like the rest of the viewer it never writes the address, the title or the history: every jump
 * inside a page is scrollIntoView, every move to another view goes through api.navigate. */
var InfopackComforts = (function () {
  'use strict';

  var CONTENTS_MIN_HEADINGS = 3; // fewer sections than this: the article is short enough to scroll
  var RELATED_SHOWN = 5;
  var RELATED_CANDIDATES = 24; // catalog entries looked at to find RELATED_SHOWN in the same language
  var SUGGESTIONS_SHOWN = 8;

  var STRINGS = {
    en: {
      contents: 'Contents', related: 'Related articles', random: 'Random article',
      position: '{n} of {total}', suggestions: 'Suggestions', inList: 'in this list'
    },
    ko: {
      contents: '목차', related: '관련 글', random: '아무 글이나',
      position: '{total}개 중 {n}번째', suggestions: '추천 제목', inList: '이 목록에서'
    }
  };

  function install(api) {
    var el = api.el;

    function say(key, values) {
      var table = STRINGS[api.lang()] || STRINGS.en;
      var text = table[key] || STRINGS.en[key] || key;
      if (values) for (var name in values) text = text.split('{' + name + '}').join(String(values[name]));
      return text;
    }

    /* A link that does its own thing on click; its href is a bare "#" like every viewer link,
     * and the document's link handler finds no route in it, so nothing reaches the address. */
    function actionLink(text, action, attributes) {
      var node = el('a', attributes || {});
      node.setAttribute('href', '#');
      node.textContent = text;
      node.addEventListener('click', function (event) {
        event.preventDefault();
        event.stopPropagation();
        action(event);
      });
      return node;
    }

    // ------------------------------------------------------------ contents (h2/h3 of long articles)
    function contents(body) {
      var headings = body.querySelectorAll('h2, h3');
      if (headings.length < CONTENTS_MIN_HEADINGS) return null;
      var list = el('ol', { 'class': 'toc-list' });
      Array.prototype.forEach.call(headings, function (heading) {
        var item = el('li', heading.tagName === 'H3' ? { 'class': 'toc-sub' } : null);
        item.appendChild(actionLink(heading.textContent, function () { jumpTo(heading); }, { 'class': 'toc-link' }));
        list.appendChild(item);
      });
      return el('nav', { 'class': 'toc', 'aria-label': say('contents') }, [
        el('p', { 'class': 'toc-title', text: say('contents') }), list
      ]);
    }

    /* An in-page jump without a fragment in the address: scroll, then move focus for keyboard and
     * screen-reader users. The sticky header would cover the heading, so it is scrolled clear. */
    function jumpTo(node) {
      if (!node.hasAttribute('tabindex')) node.setAttribute('tabindex', '-1');
      node.scrollIntoView({ block: 'start' });
      var bar = document.querySelector('.bar');
      var cover = bar && getComputedStyle(bar).position === 'sticky' ? bar.getBoundingClientRect().bottom : 0;
      var top = node.getBoundingClientRect().top;
      if (top < cover + 8) window.scrollBy(0, top - cover - 8);
      node.focus({ preventScroll: true });
    }

    // ------------------------------------------------------------ captions
    /* An image standing alone in its paragraph, with alt text or a title, becomes a figure with a
     * visible caption. When the caption repeats the alt text, screen readers are spared the echo. */
    function captions(root) {
      Array.prototype.forEach.call(root.querySelectorAll('img'), function (img) {
        if (img.closest('figure')) return;
        var alt = (img.getAttribute('alt') || '').trim();
        var title = (img.getAttribute('title') || '').trim();
        var text = title || alt;
        var holder = img.parentNode;
        if (!text || !holder || holder.nodeName !== 'P' || (holder.textContent || '').trim() !== '' ||
            holder.querySelectorAll('img, audio, video').length !== 1) return;
        var wrapper = img.closest('a') && holder.contains(img.closest('a')) ? img.closest('a') : img;
        var caption = el('figcaption', { text: text });
        if (text === alt) caption.setAttribute('aria-hidden', 'true');
        var figure = el('figure', { 'class': 'captioned' }, [wrapper, caption]);
        holder.replaceWith(figure);
      });
    }

    // ------------------------------------------------------------ previous / next in the list
    /* Neighbours of article `id` in the list view the reader came from (a topic, a year, search
     * results), or in library order when it came from none or is not in it. */
    function neighbours(id) {
      var list = api.listBelow();
      if (list) {
        for (var k = 0; k < list.length; k++) {
          if (list.at(k) === id) {
            return {
              previous: k > 0 ? list.at(k - 1) : -1,
              next: k + 1 < list.length ? list.at(k + 1) : -1,
              position: k + 1, total: list.length
            };
          }
        }
      }
      var count = api.articleCount();
      return { previous: id - 1, next: id + 1 < count ? id + 1 : -1, position: 0, total: 0 };
    }

    function pager(id) {
      var near = neighbours(id);
      var nav = el('nav', { 'class': 'pager', 'aria-label': api.t('previous') + ' / ' + api.t('next') });
      var before = el('span', { 'class': 'pager-slot' });
      var middle = el('span', { 'class': 'pager-where meta' });
      var after = el('span', { 'class': 'pager-slot pager-next' });
      if (near.total > 1) middle.textContent = say('position', { n: near.position, total: near.total });
      nav.appendChild(before);
      nav.appendChild(middle);
      nav.appendChild(after);
      [[near.previous, 'prev', before], [near.next, 'next', after]].forEach(function (spec) {
        if (spec[0] < 0) return;
        api.entry(spec[0]).then(function (row) {
          if (!row) return;
          var label = spec[1] === 'prev' ? '← ' + row[1] : row[1] + ' →';
          spec[2].appendChild(api.link(api.articleRoute(row), { rel: spec[1], lang: row[3], text: label }));
        }, function () {});
      });
      return nav;
    }

    // ------------------------------------------------------------ random article
    function randomIndex(count) {
      if (window.crypto && crypto.getRandomValues) {
        var box = new Uint32Array(1);
        crypto.getRandomValues(box);
        return box[0] % count;
      }
      return Math.floor(Math.random() * count);
    }

    function randomButton(exceptId) {
      var count = api.articleCount();
      if (count < 2) return null;
      var button = el('button', { type: 'button', 'class': 'random', text: say('random') });
      button.addEventListener('click', function () {
        var id = randomIndex(count);
        if (id === exceptId) id = (id + 1) % count;
        button.disabled = true;
        api.entry(id).then(function (row) {
          button.disabled = false;
          if (row) api.navigate(api.articleRoute(row));
        }, function () { button.disabled = false; });
      });
      return button;
    }

    // ------------------------------------------------------------ related articles
    /* Articles sharing the most topics with this one, in its language, nearest in date first. The
     * topic lists are the facet files the topic views already use; no extra data is built. */
    function related(row, id) {
      var tags = row[5] || [];
      if (!tags.length) return Promise.resolve(null);
      return Promise.all(tags.map(function (tag) {
        return api.facet('tag:' + tag).then(null, function () { return []; });
      })).then(function (lists) {
        var shared = new Map();
        lists.forEach(function (ids) {
          for (var i = 0; i < ids.length; i++) {
            if (ids[i] !== id) shared.set(ids[i], (shared.get(ids[i]) || 0) + 1);
          }
        });
        var best = pickBest(shared, id, RELATED_CANDIDATES);
        return Promise.all(best.map(function (other) { return api.entry(other).then(null, function () { return null; }); }));
      }).then(function (rows) {
        var same = rows.filter(function (other) { return other && other[3] === row[3]; }).slice(0, RELATED_SHOWN);
        if (!same.length) return null;
        var list = el('ul', { 'class': 'links' }, same.map(function (other) {
          return el('li', null, [api.link(api.articleRoute(other), { lang: other[3], text: other[1] })]);
        }));
        return el('nav', { 'class': 'related', 'aria-label': say('related') }, [el('h2', { text: say('related') }), list]);
      });
    }

    /* The `limit` ids with the most shared topics, ties broken by nearness to `id` (date order). */
    function pickBest(shared, id, limit) {
      var byCount = [];
      shared.forEach(function (count, other) {
        (byCount[count] || (byCount[count] = [])).push(other);
      });
      var picked = [];
      for (var count = byCount.length - 1; count > 0 && picked.length < limit; count--) {
        var group = byCount[count];
        if (!group) continue;
        group.sort(function (a, b) { return Math.abs(a - id) - Math.abs(b - id) || a - b; });
        for (var i = 0; i < group.length && picked.length < limit; i++) picked.push(group[i]);
      }
      return picked;
    }

    // ------------------------------------------------------------ title suggestions (ARIA combobox)
    /* Under the search box while typing: the first eight titles (or aliases) that start, at one
     * of their first words, with the typed text, checked by the search's own rules (초성, a
     * half-typed syllable). Arrows move, Enter opens, Escape closes. */
    function wireSuggestions(input, box) {
      var rows = [];
      var active = -1;
      var asked = 0; // the latest keystroke's number; older answers are dropped

      function optionId(index) { return 'suggestion-' + index; }
      function close() {
        asked++;
        rows = [];
        active = -1;
        box.textContent = '';
        box.hidden = true;
        box.removeAttribute('data-query');
        box.removeAttribute('data-complete');
        input.setAttribute('aria-expanded', 'false');
        input.removeAttribute('aria-activedescendant');
      }
      function setActive(index) {
        active = index;
        Array.prototype.forEach.call(box.children, function (node, k) {
          node.setAttribute('aria-selected', k === index ? 'true' : 'false');
        });
        if (index >= 0) {
          input.setAttribute('aria-activedescendant', optionId(index));
          box.children[index].scrollIntoView({ block: 'nearest' });
        } else {
          input.removeAttribute('aria-activedescendant');
        }
      }
      function choose(index) {
        var row = rows[index];
        close();
        if (row) api.navigate(api.articleRoute(row));
      }
      /* `complete`: the first eight from the index; otherwise the last list narrowed to the new text
       * (shown at once while the index is asked, which may need files not yet decoded). */
      function draw(query, found, complete) {
        rows = found;
        active = -1;
        box.textContent = '';
        found.forEach(function (row, index) {
          var option = el('li', { role: 'option', id: optionId(index), 'aria-selected': 'false', lang: row[3] });
          api.markMatches(option, row[1], query);
          // An alias is shown with the title of the article it opens.
          if (row[4] && row[4] !== row[1]) option.appendChild(el('span', { 'class': 'meta', text: ' → ' + row[4] }));
          // mousedown would take focus from the box before the click arrives
          option.addEventListener('mousedown', function (event) { event.preventDefault(); });
          option.addEventListener('click', function () { choose(index); });
          box.appendChild(option);
        });
        box.setAttribute('data-query', query);
        if (complete) box.setAttribute('data-complete', query); else box.removeAttribute('data-complete');
        box.hidden = !found.length;
        input.setAttribute('aria-expanded', found.length ? 'true' : 'false');
        input.removeAttribute('aria-activedescendant');
      }
      /* One small file of the title-suggestion index per new prefix (search.js `suggest`), so a
       * keystroke never waits for search shards or catalog files. */
      function suggest() {
        var query = input.value;
        var mine = ++asked;
        var engine = api.searchEngine();
        if (!engine || !engine.suggest || !query.trim()) { close(); return; }
        var narrowed = rows.filter(function (row) { return InfopackSearch.covers(row[1], query); });
        if (narrowed.length) draw(query, narrowed, false);
        engine.suggest(query, SUGGESTIONS_SHOWN).then(function (found) {
          if (mine !== asked || document.activeElement !== input) return;
          // Shaped like a catalog row where draw and choose look: [slug, text, -, lang, title].
          draw(query, found.map(function (s) { return [s.slug, s.text, null, s.lang, s.title]; }), true);
        }, function () { if (mine === asked) close(); });
      }

      input.addEventListener('input', suggest);
      input.addEventListener('focus', function () {
        var engine = api.searchEngine();
        if (engine && engine.readSuggestionHeads) engine.readSuggestionHeads();
      });
      input.addEventListener('blur', close);
      input.addEventListener('keydown', function (event) {
        var open = !box.hidden && rows.length > 0;
        if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
          if (!open) return;
          event.preventDefault();
          var step = event.key === 'ArrowDown' ? 1 : -1;
          var next = active + step;
          if (next >= rows.length) next = -1;
          if (next < -1) next = rows.length - 1;
          setActive(next);
        } else if (event.key === 'Enter' && open && active >= 0) {
          event.preventDefault(); // not a search: the chosen article
          event.stopPropagation();
          choose(active);
        } else if (event.key === 'Escape' && open) {
          event.preventDefault(); // the first Escape closes the list, the next leaves the box
          event.stopPropagation();
          close();
        }
      });
      return { close: close };
    }

    return {
      contents: contents,
      captions: captions,
      pager: pager,
      randomButton: randomButton,
      related: related,
      wireSuggestions: wireSuggestions
    };
  }

  return { install: install };
})();
