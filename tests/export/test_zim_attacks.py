"""Attacks on `infopack export --zim`, each test named after what it stops: a damaged or forged
bundle exported as if it were the publisher's, a file swapped after verification, an output that
looks valid after an interruption, an overwritten file, scripts carried into Kiwix."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infopack.errors import InfopackError, UsageProblem
from infopack.export.pages import rewrite_article_html
from infopack.export.zim import export_zim
from infopack.trust.keys import generate_secret_key
from kit.content import copy_with_flipped_bit, run_infopack
from kit.zim_export import signed_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return signed_bundle(tmp_path_factory.mktemp("zim-attacks"))


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder))


def test_tampered_bundle_is_refused_and_no_zim_appears(bundle, tmp_path):
    damaged = copy_with_flipped_bit(bundle.path, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = run_infopack("export", str(damaged), "--zim", str(out_dir / "x.zim"), "--trust", str(bundle.public_file))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused, not exported" in lines[0] and "data/text/0000.js" in lines[0]
    assert "Traceback" not in result.stderr
    assert leftovers(out_dir) == []


def test_tampered_media_is_refused(bundle, tmp_path):
    damaged = copy_with_flipped_bit(bundle.path, tmp_path, "media/welcome-2.mp3")
    with pytest.raises(InfopackError, match="refused, not exported"):
        export_zim(damaged, tmp_path / "x.zim", [bundle.public])
    assert not (tmp_path / "x.zim").exists()


def test_bundle_signed_by_an_untrusted_key_is_refused(bundle, tmp_path):
    stranger = tmp_path / "stranger.pub"
    stranger.write_bytes(generate_secret_key().public_key().to_file_bytes())
    result = run_infopack("export", str(bundle.path), "--zim", str(tmp_path / "x.zim"), "--trust", str(stranger))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "refused, not exported" in result.stderr
    assert not (tmp_path / "x.zim").exists()


def test_threshold_above_the_signatures_is_refused(bundle, tmp_path):
    second = generate_secret_key().public_key()
    with pytest.raises(InfopackError, match="refused"):
        export_zim(bundle.path, tmp_path / "x.zim", [bundle.public, second], threshold=2)
    assert not (tmp_path / "x.zim").exists()


def test_unsigned_copy_is_refused(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle.path, copy)
    shutil.rmtree(copy / "signatures")
    with pytest.raises(InfopackError, match="refused"):
        export_zim(copy, tmp_path / "x.zim", [bundle.public])


def test_unreadable_key_is_a_usage_error(bundle, tmp_path):
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    result = run_infopack("export", str(bundle.path), "--zim", str(tmp_path / "x.zim"), "--trust", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_media_swapped_after_verification_is_not_exported(bundle, tmp_path):
    # The race a planted card could win: the bundle verifies, then a file changes before it is
    # read. Every read is checked against the manifest whose signatures were verified.
    copy = tmp_path / "copy"
    shutil.copytree(bundle.path, copy)
    out = tmp_path / "out.zim"

    def swap_after_verification(message: str) -> None:
        if message.startswith("verified"):
            target = copy / "media" / "welcome-1.png"
            data = bytearray(target.read_bytes())
            data[-100] ^= 0xFF
            target.write_bytes(bytes(data))

    with pytest.raises(InfopackError, match="changed since the bundle was verified"):
        export_zim(copy, out, [bundle.public], progress=swap_after_verification)
    assert leftovers(tmp_path) == ["copy"]


def test_article_text_swapped_after_verification_is_not_exported(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle.path, copy)

    def swap(message: str) -> None:
        if message.startswith("verified"):
            target = copy / "data" / "text" / "0000.js"
            data = bytearray(target.read_bytes())
            data[len(data) // 2] ^= 0x01
            target.write_bytes(bytes(data))

    with pytest.raises(InfopackError, match="changed since the bundle was verified"):
        export_zim(copy, tmp_path / "out.zim", [bundle.public], progress=swap)
    assert not (tmp_path / "out.zim").exists()


def test_interrupted_export_leaves_nothing_that_looks_like_a_zim(bundle, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def interrupt(message: str) -> None:
        if message.startswith("media"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_zim(bundle.path, out_dir / "x.zim", [bundle.public], progress=interrupt)
    assert leftovers(out_dir) == []  # not even the temporary file


def test_existing_zim_is_not_overwritten_without_force(bundle, tmp_path):
    out = tmp_path / "x.zim"
    out.write_bytes(b"someone's file")
    result = run_infopack("export", str(bundle.path), "--zim", str(out), "--trust", str(bundle.public_file))
    assert result.returncode == 1 and "already exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"someone's file"
    result = run_infopack("export", str(bundle.path), "--zim", str(out), "--trust", str(bundle.public_file),
                          "--force", "--quiet", timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == (72173914).to_bytes(4, "little")


def test_existing_split_parts_are_not_overwritten_without_force(bundle, tmp_path):
    part = tmp_path / "x.zimaa"
    part.write_bytes(b"old part")
    with pytest.raises(InfopackError, match="already exists"):
        export_zim(bundle.path, tmp_path / "x.zim", [bundle.public])
    assert part.read_bytes() == b"old part"
    # With --force the stale parts go: a new single file beside old parts would open as a mix.
    export_zim(bundle.path, tmp_path / "x.zim", [bundle.public], force=True)
    assert leftovers(tmp_path) == ["x.zim"]


def test_zim_written_into_the_bundle_is_refused(bundle, tmp_path):
    with pytest.raises(UsageProblem, match="inside the bundle"):
        export_zim(bundle.path, bundle.path / "media" / "x.zim", [bundle.public])
    assert not (bundle.path / "media" / "x.zim").exists()


def test_name_without_zim_ending_is_refused(bundle, tmp_path):
    result = run_infopack("export", str(bundle.path), "--zim", str(tmp_path / "x.zip"), "--trust", str(bundle.public_file))
    assert result.returncode == 2 and "must end in .zim" in result.stderr


def test_scripts_handlers_and_foreign_links_never_reach_kiwix():
    hostile = (
        '<p onclick="steal()">hi<script>alert(1)</script><style>p{}</style></p>'
        '<a href="javascript:alert(1)">js</a><a href="https://tracker.example/x">web</a>'
        '<a href="#/a/missing">gone</a><a href="#/a/here">here</a><a href="#notes">notes</a>'
        '<img src="https://tracker.example/pixel.png" alt="p"><img src="media/here-1.png" alt="ok">'
        '<iframe src="https://x.example"><p>inside</p></iframe><video src="media/other.mp4" poster="media/here-1.png"></video>'
    )
    out = rewrite_article_html(hostile, {"here"}, {"media/here-1.png"})
    assert "script" not in out and "alert" not in out and "onclick" not in out and "style" not in out
    assert "tracker" not in out and "iframe" not in out and "inside" not in out and "javascript" not in out
    assert ">js<" not in out and "js" in out and "web" in out and "gone" in out  # links become text
    assert '<a href="here">here</a>' in out and '<a href="#notes">notes</a>' in out
    assert '<img alt="p">' in out and '<img src="media/here-1.png" alt="ok">' in out
    assert '<video poster="media/here-1.png"></video>' in out


def test_text_that_looks_like_markup_stays_text():
    out = rewrite_article_html("<p>1 &lt; 2 &amp;&amp; &lt;script&gt;x&lt;/script&gt;</p>", set(), set())
    assert out == "<p>1 &lt; 2 &amp;&amp; &lt;script&gt;x&lt;/script&gt;</p>"


def test_export_killed_mid_write_leaves_no_file_that_opens_as_a_zim(bundle, tmp_path):
    # kill -9 runs no clean-up: what is left must neither carry the ZIM's name nor its magic number.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from infopack.export.zim import export_zim\n"
        "from infopack.trust.keys import load_public_key\n"
        "def die(message):\n"
        "    if message.startswith('media'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "export_zim(Path(sys.argv[1]), Path(sys.argv[2]), [load_public_key(Path(sys.argv[3]))], progress=die)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(bundle.path), str(out_dir / "x.zim"),
                             str(bundle.public_file)], capture_output=True, timeout=120, check=False)
    assert result.returncode == -signal.SIGKILL
    left = leftovers(out_dir)
    assert "x.zim" not in left and not any(name.startswith("x.zim") for name in left)
    for name in left:
        assert name.startswith(".x.zim.") and name.endswith(".tmp")
        assert (out_dir / name).read_bytes()[:4] != (72173914).to_bytes(4, "little")  # header comes last
