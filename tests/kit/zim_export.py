"""Helpers for the ZIM export tests: a built and signed bundle, Debian's zimcheck and kiwix-serve."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infopack.build.assemble import build_bundle
from infopack.trust.keys import PublicKey, SecretKey, generate_secret_key
from infopack.trust.sign import sign_bundle
from kit.content import article, copy_example_content

ZIMCHECK = shutil.which("zimcheck")
KIWIX_SERVE = shutil.which("kiwix-serve")

# Beside the example library: a Korean slug, text with characters HTML must escape, links both ways.
EXTRA_ARTICLES = {
    "한국어-문서.md": article(
        title="한국어 문서 <견본> & 시험", date="2025-06-01", lang="ko",
        body="물의 순환은 [여기](water-cycle.md)에 있습니다. 1 < 2 & 3 > 2.\n\n"
             "[환영](welcome.md) 페이지도 보십시오.",
    ),
    "tiny-en.md": article(title="Zebra crossings", date="2024-02-03", lang="en",
                          body="Look [both ways](한국어-문서.md) before crossing."),
}


@dataclass
class SignedBundle:
    path: Path
    key: SecretKey
    public: PublicKey
    public_file: Path


def make_content(root: Path) -> Path:
    content = copy_example_content(root)
    for name, text in EXTRA_ARTICLES.items():
        (content / "articles" / name).write_text(text, encoding="utf-8")
    return content


def signed_bundle(root: Path, key: SecretKey | None = None) -> SignedBundle:
    """The example library plus EXTRA_ARTICLES, built and signed, with its public key file."""
    key = key or generate_secret_key()
    content = make_content(root / "content")
    bundle = root / "bundle"
    build_bundle(content, bundle, sign=lambda folder: sign_bundle(folder, key))
    public_file = root / "publisher.pub"
    public_file.write_bytes(key.public_key().to_file_bytes())
    return SignedBundle(bundle, key, key.public_key(), public_file)


def zimcheck(path: Path) -> subprocess.CompletedProcess[str]:
    """Debian's zimcheck with every check (-A). A split set is checked through OUT.zim."""
    assert ZIMCHECK, "zimcheck (Debian package zim-tools) is not installed"
    return subprocess.run([ZIMCHECK, "-A", str(path)], capture_output=True, text=True, timeout=120, check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def kiwix_serve(zim: Path) -> Iterator[str]:
    """kiwix-serve on 127.0.0.1 at a free port; yields the base URL; the server is stopped after."""
    assert KIWIX_SERVE, "kiwix-serve (Debian package kiwix-tools) is not installed"
    port = free_port()
    server = subprocess.Popen(
        [KIWIX_SERVE, "--address=127.0.0.1", f"--port={port}", str(zim)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode(errors="replace") if server.stdout else ""
                    raise AssertionError(f"kiwix-serve did not start: {output[-500:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


@dataclass(frozen=True)
class Dirent:
    index: int
    namespace: str
    path: str
    title: str
    mime: int
    cluster: int  # or the target index of a redirect
    blob: int


def dirents(zim: Path) -> list[Dirent]:
    """Every directory entry of a ZIM file, read as the openZIM format states (independent of
    the writer): the path pointer list gives each entry's offset."""
    import struct

    data = zim.read_bytes()
    count, path_ptr = struct.unpack_from("<I", data, 24)[0], struct.unpack_from("<Q", data, 32)[0]
    found = []
    for index in range(count):
        offset = struct.unpack_from("<Q", data, path_ptr + 8 * index)[0]
        mime, _, namespace = struct.unpack_from("<HBc", data, offset)
        if mime == 0xFFFF:
            (target,), names_at, blob = struct.unpack_from("<I", data, offset + 8), offset + 12, 0
            cluster = target
        else:
            cluster, blob = struct.unpack_from("<II", data, offset + 8)
            names_at = offset + 16
        end_path = data.index(b"\0", names_at)
        end_title = data.index(b"\0", end_path + 1)
        path = data[names_at:end_path].decode()
        title = data[end_path + 1 : end_title].decode() or path
        found.append(Dirent(index, namespace.decode(), path, title, mime, cluster, blob))
    return found


def uncompressed_blob(zim: Path, cluster: int, blob: int) -> bytes:
    """A blob of an uncompressed cluster (info byte 1, 32-bit offsets)."""
    import struct

    data = zim.read_bytes()
    cluster_count, cluster_ptr = struct.unpack_from("<I", data, 28)[0], struct.unpack_from("<Q", data, 48)[0]
    assert cluster < cluster_count
    start = struct.unpack_from("<Q", data, cluster_ptr + 8 * cluster)[0]
    assert data[start] == 1, "not an uncompressed cluster with 32-bit offsets"
    first, last = struct.unpack_from("<II", data, start + 1 + 4 * blob)
    return data[start + 1 + first : start + 1 + last]
