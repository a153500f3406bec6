"""Hostile captures against the web-page reader. Each test is named after the attack it stops."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from fixtures.web.web_builders import (
    NIGHT_SCHOOL_URL,
    data_uri,
    harbor_records,
    mhtml,
    page,
    png,
    saved_page,
    wacz,
    warc_bytes,
)

from infopack.ingest.model import ImportedArticle, ImportFailure, ImportOptions
from infopack.ingest.web import read_pages

OPTIONS = ImportOptions(today=date(2026, 1, 1))
PASSWD = Path("/etc/passwd")

NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                  "socket.sendto", "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect"}
_network_tries: list[tuple[str, object]] = []
_watching = [False]


def _audit(event: str, args: object) -> None:
    if _watching[0] and event in NETWORK_EVENTS:
        _network_tries.append((event, args))


sys.addaudithook(_audit)  # audit hooks cannot be removed; it records only while _watching


def run(paths: list[Path]) -> tuple[list[ImportedArticle], list[ImportFailure]]:
    found = list(read_pages(paths, OPTIONS))
    return ([item for item in found if isinstance(item, ImportedArticle)],
            [item for item in found if isinstance(item, ImportFailure)])


def all_media_bytes(found: list[ImportedArticle]) -> list[bytes]:
    return [item.data for article in found for item in article.media]


def test_page_that_points_everything_at_the_network_makes_no_request(tmp_path):
    """Remote images, stylesheets, scripts, iframes, a <base>, meta refresh, og:image, and every
    format: importing them must not open a socket or resolve a name."""
    hostile = page("night-school.html").replace(
        "<head>",
        '<head><base href="https://tracker.example/"><meta http-equiv="refresh" content="0;url=https://tracker.example/r">'
        '<link rel="stylesheet" href="https://tracker.example/s.css"><script src="https://tracker.example/t.js"></script>'
        '<meta property="og:image" content="https://tracker.example/og.jpg">',
    ).replace("</article>", '<iframe src="https://tracker.example/frame"></iframe><img srcset="https://tracker.example/a.jpg 2x"></article>')
    sources = [saved_page(tmp_path, "hostile", hostile)]
    sources.append(mhtml(tmp_path / "hostile.mhtml", hostile, NIGHT_SCHOOL_URL, []))
    (tmp_path / "crawl.warc.gz").write_bytes(warc_bytes(harbor_records(png()), gzip=True))
    sources.append(tmp_path / "crawl.warc.gz")
    sources.append(wacz(tmp_path / "crawl.wacz", {"a.warc.gz": warc_bytes(harbor_records(png()), gzip=True)}))
    _network_tries.clear()
    _watching[0] = True
    try:
        found, failures = run(sources)
    finally:
        _watching[0] = False
    assert not failures and len(found) >= 2
    assert _network_tries == []
    assert all("tracker.example" not in article.body for article in found)


@pytest.mark.skipif(not Path("/usr/bin/unshare").exists(), reason="needs unshare(1) for a network namespace")
def test_import_inside_a_network_namespace_without_any_network_still_works(tmp_path):
    """Run under `unshare -rn` (no interfaces but loopback down): a reader that tried to fetch would
    fail or hang; this one imports the page."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not allowed here")
    path = saved_page(tmp_path, "night-school", page("night-school.html"), {"lesson.png": png()})
    script = ("import sys; from pathlib import Path; from infopack.ingest.web import read_pages; "
              "from infopack.ingest.model import ImportOptions; "
              "found = list(read_pages([Path(sys.argv[1])], ImportOptions())); print(found[0].title)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(["unshare", "-rn", sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Night school on the harbour wall"


def test_svg_data_uri_with_script_is_not_kept_as_a_picture(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script></svg>'
    html = page("night-school.html").replace("night-school_files/lesson.png", data_uri(svg, "image/svg+xml"))
    # and one that lies about its type: SVG bytes labelled as PNG
    html = html.replace("https://cdn.harbor.example/img/first-class.jpg", data_uri(svg, "image/png"))
    path = tmp_path / "svg.html"
    path.write_text(html, encoding="utf-8")
    found, failures = run([path])
    assert not failures
    assert all(b"<svg" not in data and b"script" not in data for data in all_media_bytes(found))
    assert "svg" not in found[0].body.lower() and "alert" not in found[0].body
    assert any("not JPEG/PNG/GIF/WebP" in note for note in found[0].notes)


def test_script_and_javascript_links_in_the_article_do_not_survive(tmp_path):
    html = page("ferry-crossing.html").replace(
        "</article>",
        '<p>Click <a href="javascript:alert(1)" onclick="steal()">here</a> for more about the ferry timetable and the crew.</p>'
        "<script>document.write('owned')</script><p onmouseover=\"x()\">Plain words stay on the page for readers.</p></article>",
    )
    path = tmp_path / "js.html"
    path.write_text(html, encoding="utf-8")
    [article], _ = run([path])
    for bad in ("javascript:", "onclick", "onmouseover", "<script", "owned", "steal"):
        assert bad not in article.body


def test_mhtml_part_named_file_etc_passwd_reads_nothing_from_disk(tmp_path):
    html = page("night-school.html").replace("night-school_files/lesson.png", "file:///etc/passwd")
    html = html.replace("https://cdn.harbor.example/img/first-class.jpg", "file:///etc/shadow")
    path = mhtml(tmp_path / "passwd.mhtml", html, NIGHT_SCHOOL_URL,
                 [("file:///etc/passwd", "image/png", b"root:x:0:0:planted:/root:/bin/sh\n")])
    found, failures = run([path])
    assert not failures
    media = all_media_bytes(found)
    assert media == [data for data in media if not data.startswith(b"root:")]
    if PASSWD.exists():
        assert PASSWD.read_bytes() not in media
    assert "passwd" not in found[0].body and "root:x" not in found[0].body


def test_saved_page_image_path_climbing_out_of_its_folder_is_refused(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(png((66, 66, 66)))
    html = page("night-school.html").replace("night-school_files/lesson.png", "../secret.png")
    html = html.replace("https://cdn.harbor.example/img/first-class.jpg", "file:///etc/passwd")
    path = saved_page(tmp_path / "site", "night-school", html)
    found, _ = run([path])
    assert outside.read_bytes() not in all_media_bytes(found)
    assert any("outside the page's folder" in note for note in found[0].notes)


def test_files_folder_symlink_pointing_outside_is_not_followed(tmp_path):
    secret_dir = tmp_path / "private"
    secret_dir.mkdir()
    secret = png((77, 1, 1))
    (secret_dir / "lesson.png").write_bytes(secret)
    site = tmp_path / "site"
    site.mkdir()
    (site / "night-school_files").symlink_to(secret_dir, target_is_directory=True)
    path = saved_page(site, "night-school", page("night-school.html"))
    found, _ = run([path])
    assert secret not in all_media_bytes(found)
    assert any("outside the page's folder" in note for note in found[0].notes)


def test_files_folder_file_symlink_to_etc_passwd_is_not_read(tmp_path):
    site = tmp_path / "site"
    (site / "night-school_files").mkdir(parents=True)
    (site / "night-school_files" / "lesson.png").symlink_to(PASSWD)
    path = saved_page(site, "night-school", page("night-school.html"))
    found, _ = run([path])
    assert all(not data.startswith(b"root:") for data in all_media_bytes(found))


def _warc_record_header(url: str, length: int) -> bytes:
    return (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2025-01-01T00:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000000{length % 10}>\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n").encode()


def test_warc_record_declaring_2_gb_then_truncated_is_skipped_not_read(tmp_path):
    good = warc_bytes(harbor_records(png()))
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>" + b"A" * 5000
    bomb = _warc_record_header("https://harbor.example/huge", 2 * 1024 ** 3) + http  # ends long before 2 GB
    path = tmp_path / "truncated.warc"
    path.write_bytes(good + bomb)
    found, failures = run([path])
    assert {article.title for article in found} == {"Night school on the harbour wall", "The ferry crew who teach on the crossing"}
    assert not failures
    assert any("2147483648" in note for article in found for note in article.notes)


def test_warc_with_only_a_truncated_2_gb_record_is_one_failure_line(tmp_path):
    path = tmp_path / "only.warc.gz"
    import gzip

    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>" + b"A" * 5000
    path.write_bytes(gzip.compress(_warc_record_header("https://harbor.example/huge", 2 * 1024 ** 3) + http))
    found, failures = run([path])
    assert not found
    # nothing importable: either a failure line or nothing at all, never a crash or a hang
    assert all("\n" not in failure.problem for failure in failures)


def test_warc_gz_gzip_bomb_stops_early_and_keeps_the_pages_before_it(tmp_path):
    """A gzip member inflating to 256 MiB of zeros (declared 1 GiB) after real records: reading stops once the
    inflated bytes exceed 200x what was read (never the whole member), the pages before it import."""
    import zlib

    good = warc_bytes(harbor_records(png()), gzip=True)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"\0" * (1024 * 1024)
    bomb = compressor.compress(_warc_record_header("https://harbor.example/zeros", 1024 ** 3))
    bomb += b"".join(compressor.compress(zeros) for _ in range(256)) + compressor.flush()
    assert len(bomb) < 2 * 1024 * 1024
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(good + bomb)
    found, failures = run([path])
    assert {article.title for article in found} == {"Night school on the harbour wall", "The ferry crew who teach on the crossing"}
    assert not failures
    # the guard fired: reading stopped at 8 MiB + 200x, not after the whole member
    assert any("gzip bomb" in note for article in found for note in article.notes)


def test_garbage_named_warc_is_one_failure_line(tmp_path):
    path = tmp_path / "junk.warc"
    path.write_bytes(b"\x00\x01 this is not a web archive" * 100)
    found, failures = run([path])
    assert not found and len(failures) == 1 and failures[0].source == path and "\n" not in failures[0].problem


def test_wacz_zip_bomb_entry_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.wacz"
    wacz(path, {"good.warc.gz": warc_bytes(harbor_records(png()), gzip=True)})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        bomb = zipfile.ZipInfo("archive/bomb.warc")
        bomb.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(bomb, "w", force_zip64=True) as entry:
            zeros = b"\0" * (1024 * 1024)
            for _ in range(64):
                entry.write(zeros)
    found, failures = run([path])
    assert not failures and len(found) == 2
    assert any("zip bomb" in note for article in found for note in article.notes)


def test_wacz_entry_declaring_terabytes_is_refused(tmp_path):
    path = tmp_path / "liar.wacz"
    wacz(path, {"good.warc.gz": warc_bytes(harbor_records(png()), gzip=True)})
    data = bytearray(path.read_bytes())
    # the central directory entry (PK\x01\x02) names the file 46 bytes after its start; its
    # uncompressed size is at offset 24
    header_start = data.rfind(b"PK\x01\x02", 0, data.find(b"archive/good.warc.gz", data.find(b"PK\x01\x02")))
    assert header_start >= 0
    data[header_start + 24:header_start + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    found, failures = run([path])
    assert not found and len(failures) == 1 and "zip bomb" in failures[0].problem


def test_wacz_entry_names_climbing_out_are_never_used(tmp_path):
    path = tmp_path / "traversal.wacz"
    good = warc_bytes(harbor_records(png()), gzip=True)
    wacz(path, {"good.warc.gz": good}, extra={"archive/../../escaped.warc.gz": good, "/etc/cron.d/x.warc": good})
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    found, failures = run([path])
    assert not failures and len(found) == 2  # the good archive only, each page once
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert not (tmp_path.parent / "escaped.warc.gz").exists()
    assert any("leaves the archive" in note for article in found for note in article.notes)


def test_mhtml_without_an_html_part_is_one_failure_line(tmp_path):
    path = tmp_path / "empty.mhtml"
    path.write_bytes(b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
    found, failures = run([path])
    assert not found and len(failures) == 1 and "no HTML part" in failures[0].problem
