"""Issue 10, classes 4, 5 and 8: what a partner's own machine does to `verify`.

4. several `verify --state` runs at once, planted links and FIFOs around the state, keys and
   signatures; 5. files that a copy onto FAT32 would merge with the bundle's own, files a
   computer acts on by itself, and the housekeeping every OS writes onto a card it sees;
8. consoles and files that cannot print Korean, and output that cannot be written at all.

Every test uses real keys and signatures (keys.py, sign.py), real files, and, where the
behaviour is the command's, real `infopack verify` processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from infopack.trust.keys import generate_secret_key
from infopack.trust.sign import sign_bundle
from infopack.trust.verify import verify_bundle
from kit.bundles import make_bundle, problems_of, signed_bundle

VERIFY = [sys.executable, "-m", "infopack.commands", "verify"]
TIMEOUT = 60
KOREAN_FILES = {
    "index.html": b"<!doctype html><title>demo</title>\n",
    "data/dict.js": b'infopackData("dict","AAAA");\n',
    "media/\uc11c\uc6b8-1.mp3": bytes(range(256)) * 8,  # 서울-1.mp3, precomposed (NFC)
}


@pytest.fixture(scope="module")
def key():
    return generate_secret_key("publisher")


@pytest.fixture
def pub(tmp_path, key) -> Path:
    path = tmp_path / "publisher.pub"
    path.write_bytes(key.public_key().to_file_bytes())
    return path


def run_verify(*args: object, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """A real `infopack verify` process; a hang (the old FIFO behaviour) is a failure, not a
    stuck test run: subprocess.run kills the child when the timeout expires."""
    try:
        return subprocess.run(
            [*VERIFY, *map(str, args)], check=False, capture_output=True, timeout=TIMEOUT,
            env={**os.environ, **(env or {})}, **kwargs,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"verify {' '.join(map(str, args))} did not finish in {TIMEOUT} s (blocked reading?)")


def assert_rejected(report, *fragments: str) -> None:
    text = "\n".join(problems_of(report))
    assert report.exit_code == 1, f"bundle was accepted: {report.to_text()}"
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"


def state_of(path: Path) -> dict[str, int]:
    return json.loads(path.read_text())["highest_sequence"]


# ----------------------------------------------------------------------------- 4. rollback state


def test_parallel_verifies_keep_the_highest_sequence_of_every_bundle(tmp_path, key, pub):
    """A partner checks volumes in parallel: each run must add to the state, not overwrite it
    with the view it read when it started, or the newest sequence is lost and an old card passes."""
    ids, sequences = ["vol-a", "vol-b", "vol-c", "vol-d"], [1, 2, 3]
    bundles = {
        (bundle_id, seq): signed_bundle(tmp_path / f"{bundle_id}-{seq}", key, bundle_id=bundle_id, sequence=seq)
        for bundle_id in ids for seq in sequences
    }
    for round_number in range(3):
        state = tmp_path / f"seen-{round_number}.json"
        runs = [
            (bundle_id, seq, subprocess.Popen(
                [*VERIFY, str(path), "--trust", str(pub), "--state", str(state)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            ))
            for (bundle_id, seq), path in bundles.items()
        ]
        for _bundle_id, seq, process in runs:
            out, err = process.communicate(timeout=TIMEOUT)
            if seq == max(sequences):  # nothing newer exists: it must pass
                assert process.returncode == 0, (out + err).decode()
            else:  # passes, or is refused because a newer one was recorded first: never a crash
                assert process.returncode in (0, 1), (out + err).decode()
                assert process.returncode == 0 or b"rollback: sequence" in out, out.decode()
        assert state_of(state) == {bundle_id: max(sequences) for bundle_id in ids}
        older = run_verify(bundles[("vol-b", 2)], "--trust", pub, "--state", state)
        assert older.returncode == 1 and b"rollback: sequence 2 is older than 3" in older.stdout


def test_symlink_planted_at_a_temporary_name_is_not_followed(tmp_path, key):
    """The old code wrote `.<state>.<pid>.tmp` with open(): a link planted there (the pid is
    easy to guess) made verify overwrite the link's target, and then renamed the link over the
    state. Links at every name the old code used must be left alone, and so must their target."""
    bundle = signed_bundle(tmp_path / "b", key)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not yours to write\n")
    state = tmp_path / "state" / "seen.json"
    state.parent.mkdir()
    planted = [state.with_name(f".seen.json.{os.getpid()}.tmp"), state.with_name("seen.json.tmp"),
               state.with_name(".seen.json.tmp")]
    for link in planted:
        link.symlink_to(victim)
    assert verify_bundle(bundle, [key.public_key()], state_file=state).exit_code == 0
    assert victim.read_bytes() == b"not yours to write\n"
    assert not state.is_symlink() and state_of(state) == {"demo": 1}
    assert all(link.is_symlink() and link.resolve() == victim for link in planted)
    leftovers = {p.name for p in state.parent.iterdir()} - {p.name for p in planted}
    assert leftovers == {"seen.json", "seen.json.lock"}  # no temporary file left behind


def test_symlinked_state_file_updates_its_target_and_stays_a_link(tmp_path, key):
    """A state kept in a shared folder through a link: the link must keep pointing there, or
    the next run on another machine reads a state that never learnt of this release."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "real-state.json"
    link = tmp_path / "seen.json"
    link.symlink_to(target)  # dangling: the first run creates the target
    older = signed_bundle(tmp_path / "v1", key, sequence=1)
    newer = signed_bundle(tmp_path / "v2", key, sequence=2)
    for bundle in (older, newer):
        assert verify_bundle(bundle, [key.public_key()], state_file=link).exit_code == 0
        assert link.is_symlink() and os.readlink(link) == str(target)
    assert state_of(target) == {"demo": 2}
    assert_rejected(verify_bundle(older, [key.public_key()], state_file=link), "rollback: sequence 1")


@pytest.mark.parametrize("option", ["--state", "--trust", "--signature"])
def test_fifo_given_as_state_trust_or_signature_is_refused_at_once(tmp_path, key, pub, option):
    """Opening a FIFO for reading blocks until a writer appears: verify would hang forever
    instead of answering, in a script copying to hundreds of drives."""
    bundle = signed_bundle(tmp_path / "b", key)
    fifo = tmp_path / "input.fifo"
    os.mkfifo(fifo)
    args = [option, fifo] if option == "--trust" else ["--trust", pub, option, fifo]
    result = run_verify(bundle, *args)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and str(fifo) in err and "not a regular file" in err, err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- 5. names on FAT32

NFD_SEOUL = unicodedata.normalize("NFD", "\uc11c\uc6b8")  # how macOS may spell 서울


@pytest.mark.parametrize(
    "extra",
    ["INDEX.HTML", "MANIFEST.JSON", "SIGNATURES/0123456789abcdef.minisig", "Media/other.mp3",
     f"media/{NFD_SEOUL}-1.mp3"],
)
def test_extra_that_merges_with_a_listed_name_on_fat32_is_refused_even_with_allow_extra(tmp_path, key, extra):
    """On ext4 `INDEX.HTML` sits beside `index.html`; copied by hand onto FAT32 it replaces it.
    The same for the manifest, the signatures folder, a listed folder, and the NFD spelling of
    a listed NFC name."""
    bundle = signed_bundle(tmp_path / "b", key, files=KOREAN_FILES)
    path = bundle / extra
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"<script>evil()</script>")
    assert_rejected(verify_bundle(bundle, [key.public_key()], allow_extra=True), "same name on FAT32 as")


@pytest.mark.parametrize(
    "pair",
    [("notes/Read.txt", "notes/READ.txt"), ("Notes/a.txt", "notes/b.txt"),
     (f"x/{NFD_SEOUL}.txt", "x/\uc11c\uc6b8.txt")],
)
def test_extras_that_merge_with_each_other_on_fat32_are_refused(tmp_path, key, pair):
    """Two unlisted files FAT32 sees as one: whichever is copied last wins, unseen."""
    bundle = signed_bundle(tmp_path / "b", key)
    for name in pair:
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(name.encode())
    assert_rejected(verify_bundle(bundle, [key.public_key()], allow_extra=True), "another unlisted file")


def test_extra_with_a_name_that_is_not_utf8_is_refused_even_with_allow_extra(tmp_path, key):
    """Undecodable bytes are stored and shown differently by every other system."""
    bundle = signed_bundle(tmp_path / "b", key)
    (Path(os.fsdecode(os.fsencode(bundle / "media") + b"/\xff\xfe.mp3"))).write_bytes(b"x")
    assert_rejected(verify_bundle(bundle, [key.public_key()], allow_extra=True), "not valid UTF-8")


@pytest.mark.parametrize(
    "name",
    ["autorun.inf", "AUTORUN.INF", "desktop.ini", "media/Desktop.ini", "guide.lnk", "media/site.URL",
     "x.scf", "a.pif", "open.desktop", "folder.htt", "data/.directory", "search.library-ms",
     "._evil.lnk"],
)
def test_files_a_computer_acts_on_by_itself_are_refused_even_with_allow_extra(tmp_path, key, name):
    """Windows runs what autorun.inf names, Explorer reads desktop.ini (an icon on a network
    path sends the user's credentials there), shortcuts are followed when their icon is drawn."""
    bundle = signed_bundle(tmp_path / "b", key)
    (bundle / name).write_bytes(b"[.ShellClassInfo]\r\nIconResource=\\\\attacker\\share\\x.ico,0\r\n")
    assert_rejected(verify_bundle(bundle, [key.public_key()], allow_extra=True), "by the computer by itself")


HOUSEKEEPING = {
    "System Volume Information/IndexerVolumeGuid": "System Volume Information/",
    "System Volume Information/WPSettings.dat": "System Volume Information/",
    ".fseventsd/fseventsd-uuid": ".fseventsd/",
    ".Spotlight-V100/Store-V2/1234/store.db": ".Spotlight-V100/",
    "$RECYCLE.BIN/S-1-5-21-1/$I123456.txt": "$RECYCLE.BIN/",
    "._index.html": "._index.html",
    "media/._\uc11c\uc6b8-1.mp3": "media/._\uc11c\uc6b8-1.mp3",
    "Thumbs.db": "Thumbs.db",
    "media/Thumbs.db": "media/Thumbs.db",
    ".DS_Store": ".DS_Store",
    "data/.DS_Store": "data/.DS_Store",
}
EMPTY_HOUSEKEEPING_DIRS = {".Trashes": ".Trashes/", ".TemporaryItems/folders.501": ".TemporaryItems/"}


def test_os_housekeeping_on_a_used_card_passes_and_is_reported_on_its_own_line(tmp_path, key, pub):
    """A card that has been in a Windows PC and a Mac: what they wrote is nothing anyone reads
    or runs, and must not fail a partner's check of an intact bundle."""
    bundle = signed_bundle(tmp_path / "b", key, files=KOREAN_FILES)
    for name in HOUSEKEEPING:
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(b"\x00\x05\x16\x07")
    for name in EMPTY_HOUSEKEEPING_DIRS:
        (bundle / name).mkdir(parents=True)
    # Finder opened signatures/, and a Mac copied the signature there with its metadata.
    in_signatures = ["signatures/.DS_Store", f"signatures/._{key.id_hex}.minisig"]
    for name in in_signatures:
        (bundle / name).write_bytes(b"\x00\x05\x16\x07")
    expected = sorted({*HOUSEKEEPING.values(), *EMPTY_HOUSEKEEPING_DIRS.values(), *in_signatures})

    text = run_verify(bundle, "--trust", pub)
    out = text.stdout.decode()
    assert text.returncode == 0, out + text.stderr.decode()
    lines = [line for line in out.splitlines() if line.startswith("housekeeping written by an operating system: ")]
    assert len(lines) == 1 and lines[0].endswith("; ignored") and "warning" not in out
    assert all(item in lines[0] for item in expected[:10])

    document = json.loads(run_verify(bundle, "--trust", pub, "--json").stdout)
    assert document["ok"] and document["problems"] == [] and document["warnings"] == []
    assert document["housekeeping"] == expected


def test_housekeeping_passes_but_not_where_it_merges_with_a_listed_name(tmp_path, key):
    """`media/thumbs.db` is the bundle's own file: a Windows `media/THUMBS.DB` beside it would
    replace it on FAT32. And volume folders count only where an OS puts them, at the top."""
    files = {**KOREAN_FILES, "media/thumbs.db": b"listed"}
    bundle = signed_bundle(tmp_path / "b", key, files=files)
    (bundle / "Thumbs.db").write_bytes(b"x")
    (bundle / "._index.html").write_bytes(b"x")
    report = verify_bundle(bundle, [key.public_key()])
    assert report.exit_code == 0, report.to_text()
    assert report.housekeeping == {"Thumbs.db", "._index.html"}
    (bundle / "media" / "THUMBS.DB").write_bytes(b"x")
    assert_rejected(verify_bundle(bundle, [key.public_key()]), "media/THUMBS.DB: not listed", "same name on FAT32 as media/thumbs.db")
    (bundle / "media" / "THUMBS.DB").unlink()
    (bundle / "media" / ".fseventsd").mkdir()
    (bundle / "media" / ".fseventsd" / "x").write_bytes(b"x")
    assert_rejected(verify_bundle(bundle, [key.public_key()]), "media/.fseventsd/x: not listed")


# ----------------------------------------------------------------------------- 8. any console


@pytest.fixture
def korean_bundle(tmp_path, key) -> tuple[Path, Path]:
    """A good bundle in a folder named 번들, with a Korean title and file, signed detached to
    서명.minisig (so the text report prints Korean too), and an unlisted 메모.txt."""
    bundle = make_bundle(tmp_path / "\ubc88\ub4e4", files=KOREAN_FILES)
    signature = sign_bundle(bundle, key, signature_out=tmp_path / "\uc11c\uba85.minisig")
    (bundle / "\uba54\ubaa8.txt").write_bytes(b"memo")
    return bundle, signature


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_good_korean_bundle_passes_on_a_console_that_cannot_print_korean(tmp_path, pub, korean_bundle, encoding, as_json):
    """Windows' code pages, or output redirected to a file under one: printing 번들 used to
    raise UnicodeEncodeError, and the crash's exit code 1 called a good bundle failed."""
    bundle, signature = korean_bundle
    report_file = tmp_path / "report.txt"
    with open(report_file, "wb") as out:
        result = subprocess.run(
            [*VERIFY, str(bundle), "--trust", str(pub), "--signature", str(signature), "--allow-extra",
             *(["--json"] if as_json else [])],
            check=False, stdout=out, stderr=subprocess.PIPE, timeout=TIMEOUT,
            env={**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C"},
        )
    written = report_file.read_bytes().decode("ascii")  # escaped, so readable anywhere
    assert result.returncode == 0, written + result.stderr.decode()
    assert b"Traceback" not in result.stderr
    if as_json:
        document = json.loads(written)
        assert document["ok"] and document["bundle"]["title"] == "Demo \ub370\ubaa8"
        assert document["bundle_dir"] == str(bundle)
    else:
        assert "\\uba54\\ubaa8.txt" in written and "\\uc11c\\uba85.minisig: valid" in written
        assert written.splitlines()[-1].startswith("OK: demo sequence 1")


def test_damaged_korean_file_on_such_a_console_is_reported_and_exits_1(tmp_path, pub, korean_bundle):
    """A real problem must still be a report and exit 1, not a traceback that happens to exit 1."""
    bundle, signature = korean_bundle
    with open(bundle / "media" / "\uc11c\uc6b8-1.mp3", "ab") as handle:
        handle.write(b"!")
    result = run_verify(bundle, "--trust", pub, "--signature", signature,
                        env={"PYTHONIOENCODING": "cp1252", "LC_ALL": "C"})
    out = result.stdout.decode("ascii")
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr.decode()
    assert "error: media/\\uc11c\\uc6b8-1.mp3: size is" in out
    assert out.splitlines()[-1].startswith("FAILED: ")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_output_that_cannot_be_written_does_not_change_the_verdict(tmp_path, key, pub, as_json):
    """A report piped into a program that has already exited (EPIPE): the bundle is as good
    as it was, and the exit code, which scripts act on, must say so."""
    bundle = signed_bundle(tmp_path / "b", key)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*VERIFY, str(bundle), "--trust", str(pub), *(["--json"] if as_json else [])],
            check=False, stdout=write_end, stderr=subprocess.PIPE, timeout=TIMEOUT,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr.decode()
