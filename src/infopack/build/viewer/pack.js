/* library.pack: every data payload of the library in one file (docs/FORMAT.md section 8a), read as
 * slices of a file the reader picks with <input type="file">. A phone's file manager hands the
 * browser one file, so phone.html cannot read data/; when the library is too big to sit inline,
 * the reader picks library.pack from the card and each payload is read from it when needed.
 * The File stays in this page's memory: nothing is copied, stored or sent. Payloads are checked
 * by the viewer against the lengths and SHA-256s of its own root document, exactly as the data
 * files are; the pack's own index is only trusted for where each payload lies.
 * Also here: the strings of the data-loading paths (picker, per-article damage, media check). */
var InfopackPack = (function () {
  'use strict';

  var MAGIC = 'infopack';
  var VERSION = 1;
  var HEADER = 16; // magic (8 bytes), version (u32 LE), index length (u32 LE)
  var INDEX_LIMIT = 64 * 1024 * 1024; // a longer index is not ours: do not try to read it

  var STRINGS = {
    en: {
      packIntro: 'This library is too big to fit in this one file. Its articles are in the file library.pack on the same card. Tap the button below and choose library.pack. Nothing is copied or sent anywhere: this page reads the file where it is.',
      packButton: 'Open library.pack',
      packOpening: 'Opening library.pack…',
      packNotPack: 'The chosen file is not a library.pack. Choose the file named library.pack on the same card as this page.',
      packWrong: 'The chosen library.pack belongs to another library or another edition of it. Choose library.pack from the same card as this page.',
      packDamaged: 'The beginning of this library.pack is damaged, so it cannot be read. Copy the card again from a good copy.',
      packSpareIntro: 'This card keeps a second copy of every article in the file library.pack. To read this from there, tap the button and choose library.pack from the same card.',
      packIndexIntro: 'This browser cannot read the library\'s other files from here (phones often open only one file). Tap the button below and choose library.pack from the same card: the whole library is in that file.',
      damagedOne: 'This article ({title}) cannot be read: its text on this card is damaged ({file}). Only this article is affected; the other articles, including those stored in the same file, still open.',
      checkArticles: 'Articles whose text is damaged: {n}',
      mediaTitle: 'Images, audio and video',
      mediaIntro: 'The {n} media files cannot be read by this page on its own. To check them too, tap the button and choose the folder "media" on this card (or the files in it). They are read here, on this device, and compared with the fingerprints recorded when the library was made. Like the check above, this finds damage, not forgery.',
      mediaButton: 'Check media files',
      mediaChecking: 'Checking media {i} / {n}',
      mediaCancel: 'Stop',
      mediaCancelled: 'Stopped after {i} of {n} media files.',
      mediaOk: 'All {n} media files are intact: no accidental damage found.',
      mediaBad: '{bad} of {n} media files are damaged or missing:',
      mediaMissing: 'missing', mediaDamaged: 'damaged'
    },
    ko: {
      packIntro: '이 도서관은 너무 커서 이 파일 하나에 다 들어가지 않습니다. 글은 같은 카드의 library.pack 파일에 있습니다. 아래 단추를 누르고 library.pack을 고르십시오. 아무것도 복사되거나 보내지지 않고, 이 페이지가 그 파일을 있는 자리에서 읽습니다.',
      packButton: 'library.pack 열기',
      packOpening: 'library.pack을 여는 중…',
      packNotPack: '고른 파일은 library.pack이 아닙니다. 이 페이지와 같은 카드에 있는 library.pack 파일을 고르십시오.',
      packWrong: '고른 library.pack은 다른 도서관이나 다른 판의 것입니다. 이 페이지와 같은 카드에 있는 library.pack을 고르십시오.',
      packDamaged: '이 library.pack은 앞부분이 손상되어 읽을 수 없습니다. 온전한 카드에서 다시 복사하십시오.',
      packSpareIntro: '이 카드에는 모든 글의 두 번째 사본이 library.pack 파일에 들어 있습니다. 그곳에서 읽으려면 단추를 누르고 같은 카드의 library.pack을 고르십시오.',
      packIndexIntro: '이 브라우저는 여기에서 도서관의 다른 파일을 읽을 수 없습니다(전화기는 흔히 파일 하나만 엽니다). 아래 단추를 누르고 같은 카드의 library.pack을 고르십시오. 도서관 전체가 그 파일에 들어 있습니다.',
      damagedOne: '이 글({title})을 읽을 수 없습니다. 카드에 저장된 이 글의 본문이 손상되었습니다 ({file}). 이 글만 해당되며, 같은 파일에 든 글을 포함해 다른 글은 모두 열립니다.',
      checkArticles: '본문이 손상된 글: {n}개',
      mediaTitle: '그림, 소리, 동영상',
      mediaIntro: '미디어 파일 {n}개는 이 페이지 혼자서는 읽을 수 없습니다. 이것도 검사하려면 단추를 누르고 이 카드의 "media" 폴더(또는 그 안의 파일)를 고르십시오. 파일은 이 기기 안에서 읽혀, 도서관을 만들 때 기록한 지문과 비교됩니다. 위의 검사처럼 손상을 찾을 뿐, 위조는 찾지 못합니다.',
      mediaButton: '미디어 파일 검사',
      mediaChecking: '미디어 검사 중 {i} / {n}',
      mediaCancel: '멈추기',
      mediaCancelled: '미디어 파일 {n}개 중 {i}개를 검사하고 멈췄습니다.',
      mediaOk: '미디어 파일 {n}개가 모두 온전합니다. 우발적인 손상은 없습니다.',
      mediaBad: '미디어 파일 {n}개 중 {bad}개가 손상되었거나 없습니다:',
      mediaMissing: '없음', mediaDamaged: '손상됨'
    }
  };

  function PackError(kind) { this.kind = kind; this.message = 'library.pack: ' + kind; }

  /* Bytes start..end of a Blob. Blob.arrayBuffer is Chrome 76+ / Firefox 69+; FileReader before. */
  function sliceBytes(blob, start, end) {
    var part = blob.slice(start, end);
    if (typeof part.arrayBuffer === 'function') {
      return part.arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
    }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(part);
    });
  }

  function u32(bytes, at) {
    return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
  }

  /* Open a picked file as library.pack for the library whose root document lists `files`
   * (payload name -> [length, sha256]). Resolves to a reader, or rejects with a PackError whose
   * kind is 'notPack', 'damaged' or 'wrong'. */
  function open(file, files) {
    return sliceBytes(file, 0, HEADER).then(function (head) {
      var magic = '';
      for (var i = 0; i < 8 && i < head.length; i++) magic += String.fromCharCode(head[i]);
      if (head.length < HEADER || magic !== MAGIC) throw new PackError('notPack');
      var indexLength = u32(head, 12);
      if (u32(head, 8) !== VERSION || indexLength > INDEX_LIMIT || HEADER + indexLength > file.size) throw new PackError('damaged');
      return sliceBytes(file, HEADER, HEADER + indexLength).then(function (bytes) {
        var index;
        try { index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)); } catch (e) { throw new PackError('damaged'); }
        return reader(file, HEADER + indexLength, index, files);
      });
    });
  }

  function reader(file, dataStart, index, files) {
    var where = Object.create(null); // names come from the file: no "__proto__" surprises
    (index && index.payloads || []).forEach(function (item) { where[item[0]] = item; });
    // Every payload this page knows must be in the pack with the same length and fingerprint;
    // otherwise the pack was made for another library (or another edition of this one).
    Object.keys(files).forEach(function (name) {
      var item = where[name];
      if (!item || item[2] !== files[name][0] || item[3] !== files[name][1]) throw new PackError('wrong');
    });
    return {
      read: function (name) {
        var item = where[name];
        var start = dataStart + item[1];
        return sliceBytes(file, start, start + item[2]);
      }
    };
  }

  /* The picker: one button (Korean and English) that opens the file chooser for library.pack.
   * `lang` orders the two languages; `onOpen(reader)` runs once a matching pack is open. */
  function picker(lang, files, intro, onOpen) {
    var other = lang === 'ko' ? 'en' : 'ko';
    var box = document.createElement('div');
    box.className = 'notice pack-picker';
    [lang, other].forEach(function (code) {
      var p = document.createElement('p');
      p.lang = code;
      p.textContent = STRINGS[code][intro];
      box.appendChild(p);
    });
    var input = document.createElement('input');
    input.type = 'file';
    input.id = 'library-pack-input';
    input.hidden = true;
    var button = document.createElement('button');
    button.type = 'button';
    button.id = 'library-pack-button';
    button.textContent = STRINGS[lang].packButton + ' · ' + STRINGS[other].packButton;
    var status = document.createElement('p');
    status.setAttribute('role', 'status');
    button.addEventListener('click', function () { input.click(); });
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      status.textContent = STRINGS[lang].packOpening;
      open(file, files).then(function (opened) {
        status.textContent = '';
        onOpen(opened);
      }, function (error) {
        var kind = error instanceof PackError ? error.kind : 'damaged';
        status.textContent = STRINGS[lang]['pack' + kind.charAt(0).toUpperCase() + kind.slice(1)];
        input.value = ''; // the same file may be picked again after it was fixed
      });
    });
    box.appendChild(button);
    box.appendChild(input);
    box.appendChild(status);
    return box;
  }

  return { STRINGS: STRINGS, open: open, picker: picker, sliceBytes: sliceBytes, PackError: PackError };
})();
