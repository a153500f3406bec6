"""PARTNERS.md's Linux steps, run exactly as written against real signed bundles.

The `sh` blocks under "## On Linux" are taken from the document and run unchanged, with bash and
with dash, in the bundle folder. The first block is the one the partner edits (PUB, ID, LAST); it
is run as written too: HOME points at a folder holding the publisher's key as `publisher.pub`,
and the test bundle carries the document's example id. Only the rollback and wrong-id cases
skip that block and set PUB, ID and LAST in the environment instead, as a partner with other
values would. The Windows steps cannot run here (no PowerShell on Debian), so their regular
expressions are checked against a real bundle with Python's `re` (same syntax for what they use)
and the block is held to ASCII, which Windows PowerShell 5.1 reads the same in any code page.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from infopack.build.assemble import build_bundle
from infopack.build.output import write_manifest
from infopack.format.constants import SIGNATURES_DIR
from infopack.format.manifest import parse_manifest
from infopack.trust.keys import SecretKey, generate_secret_key
from infopack.trust.sign import read_manifest_bytes, sign_bundle
from infopack.trust.signature import sign_manifest, signature_file_name

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "PARTNERS.md"
BUNDLE_ID = "news-2026"  # the example id in PARTNERS.md's settings block
SEQUENCE = 3

if shutil.which("minisign") is None:
    if os.environ.get("CI"):
        pytest.fail("Debian minisign is not installed (tools/test.sh installs it)", pytrace=False)
    pytest.skip("apt-get install minisign", allow_module_level=True)


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)


LINUX = fenced(section("On Linux"), "sh")
WINDOWS = fenced(section("On Windows"), "powershell")


def test_linux_section_is_a_settings_block_then_one_check_block():
    assert len(LINUX) == 2, "the tests run exactly these blocks: keep the Linux steps in two sh blocks"
    settings = [line.split("#")[0].strip() for line in LINUX[0].splitlines()]
    assert [line.split("=")[0] for line in settings if line] == ["PUB", "ID", "LAST"]
    assert f"ID={BUNDLE_ID}" in settings and "PUB=~/publisher.pub" in settings and "LAST=0" in settings


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """A real bundle (Korean article slug, so a Korean media file name), signed by `key`."""
    root = tmp_path_factory.mktemp("partners")
    content = root / "content"
    article_dir = content / "articles" / "안내"
    article_dir.mkdir(parents=True)
    (content / "infopack.toml").write_text(
        f'title = "Partner test"\nlang = "ko"\nsequence = {SEQUENCE}\nid = "{BUNDLE_ID}"\n', encoding="utf-8"
    )
    (article_dir / "index.md").write_text(
        "---\ntitle: 안전하게 읽는 방법\ndate: 2026-11-01\nlang: ko\n---\n본문입니다. ![사진](photo.png)\n",
        encoding="utf-8",
    )
    Image.new("RGB", (40, 30), (200, 10, 10)).save(article_dir / "photo.png")
    bundle = root / "bundle"
    build_bundle(content, bundle)
    key = generate_secret_key("publisher")
    sign_bundle(bundle, key)
    assert any("안내" in path.name for path in (bundle / "media").iterdir())
    home = root / "home"
    home.mkdir()
    (home / "publisher.pub").write_bytes(key.public_key().to_file_bytes())
    return {"bundle": bundle, "home": home, "key": key}


@pytest.fixture
def bundle(made, tmp_path) -> Path:
    copy = tmp_path / "card"
    shutil.copytree(made["bundle"], copy, symlinks=True)
    return copy


def run_linux(made, folder: Path, shell: str = "bash", settings: dict[str, str] | None = None):
    """Run the document's Linux blocks in `folder`; with `settings`, the check block alone."""
    temp = folder.parent / "tmp"
    temp.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(made["home"]), "LANG": "C.UTF-8", "TMPDIR": str(temp)}
    script = "\n".join(LINUX) if settings is None else LINUX[1]
    env.update(settings or {})
    result = subprocess.run(
        [shell], input=script, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert list(temp.iterdir()) == [], "the steps leave no temporary files behind"
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_linux_steps_pass_a_good_bundle(made, bundle, shell):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    code, output = run_linux(made, bundle, shell)
    assert code == 0, output
    assert f"OK: infopack/1 id={BUNDLE_ID} seq={SEQUENCE} created=2026-11-01" in output
    assert "REFUSE" not in output and "NOT LISTED" not in output


def test_housekeeping_files_are_shown_but_harmless(made, bundle):
    for name in ["System Volume Information/IndexerVolumeGuid", ".Trashes/501/x", "._index.html",
                 "data/._dict.js", ".DS_Store", "media/Thumbs.db", "$RECYCLE.BIN/desktop.ini"]:
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(b"\0")
    code, output = run_linux(made, bundle)
    assert code == 0, output
    assert "harmless: ./._index.html" in output and "harmless: ./media/Thumbs.db" in output


def flip_byte(path: Path, at: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def korean_media(bundle: Path) -> Path:
    return next((bundle / "media").iterdir())


def extra(name: str, data: bytes = b"[autorun]\nopen=run.exe\n"):
    def add(bundle: Path, made: dict) -> None:
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(data)
    return add


def sums_follow_data_file(bundle: Path, made: dict) -> None:
    """A changed data file with SHA256SUMS updated to match; the signed manifest left as it was."""
    target = bundle / "data" / "text" / "0000.js"
    flip_byte(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    sums = bundle / "SHA256SUMS"
    lines = [re.sub(r"^[0-9a-f]{64}(?=  data/text/0000\.js$)", digest, line)
             for line in sums.read_text(encoding="utf-8").splitlines()]
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")


def manifest_follows_data_file(bundle: Path, made: dict) -> None:
    """A changed data file with manifest.json and SHA256SUMS rewritten; the old signature kept."""
    flip_byte(bundle / "data" / "text" / "0000.js")
    write_manifest(bundle, parse_manifest(read_manifest_bytes(bundle)).bundle)


def resign_with(key_factory):
    def resign(bundle: Path, made: dict) -> None:
        shutil.rmtree(bundle / "signatures")
        sign_bundle(bundle, key_factory())
    return resign


def link_instead_of_file(bundle: Path, made: dict) -> None:
    target = bundle / "data" / "slug" / "00.js"
    (bundle.parent / "elsewhere.js").write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(bundle.parent / "elsewhere.js")


ATTACKS = {
    "flipped byte in a data file": (lambda b, m: flip_byte(b / "data" / "text" / "0000.js"), "damaged, changed or missing"),
    "flipped byte in a Korean-named media file": (lambda b, m: flip_byte(korean_media(b)), "damaged, changed or missing"),
    "missing data file": (lambda b, m: (b / "data" / "cat" / "0000.js").unlink(), "damaged, changed or missing"),
    "extra autorun.inf": (extra("autorun.inf"), "NOT LISTED: ./autorun.inf"),
    "extra desktop.ini in a subfolder": (extra("media/desktop.ini"), "NOT LISTED: ./media/desktop.ini"),
    "extra shortcut": (extra("읽어 보세요 [중요].lnk", b"L\0\0\0"), "NOT LISTED: ./읽어 보세요 [중요].lnk"),
    "extra file in signatures/": (extra("signatures/run.url", b"[InternetShortcut]\n"), "NOT LISTED: ./signatures/run.url"),
    "a link in place of a listed file": (link_instead_of_file, "links or special files"),
    "manifest altered": (
        lambda b, m: (b / "manifest.json").write_bytes(
            (b / "manifest.json").read_bytes().replace(b'"Partner test"', b'"Partner Test"')),
        "no signature by your key",
    ),
    "manifest and SHA256SUMS rewritten, old signature": (manifest_follows_data_file, "no signature by your key"),
    "SHA256SUMS rewritten, manifest untouched": (sums_follow_data_file, "SHA256SUMS is not the one"),
    "signed by another key": (resign_with(lambda: generate_secret_key("someone else")), "no signature by your key"),
    "signature removed": (lambda b, m: shutil.rmtree(b / "signatures"), "no signature by your key"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_linux_steps_refuse(made, bundle, attack):
    change, reason = ATTACKS[attack]
    change(bundle, made)
    code, output = run_linux(made, bundle)
    assert code != 0, output
    assert "REFUSE" in output and reason in output, output
    assert "OK:" not in output


def test_a_co_signature_by_another_key_does_not_get_in_the_way(made, bundle):
    sign_bundle(bundle, generate_secret_key("release manager"))
    assert len(list((bundle / "signatures").iterdir())) == 2
    code, output = run_linux(made, bundle)
    assert code == 0, output


def test_trusted_comment_must_name_the_expected_bundle_and_no_older_sequence(made, bundle):
    pub = str(made["home"] / "publisher.pub")
    same = {"PUB": pub, "ID": BUNDLE_ID, "LAST": str(SEQUENCE)}
    assert run_linux(made, bundle, settings=same)[0] == 0  # the release accepted before, checked again
    code, output = run_linux(made, bundle, settings={**same, "LAST": str(SEQUENCE + 1)})
    assert code != 0 and "is older than" in output, output
    code, output = run_linux(made, bundle, settings={**same, "ID": "news"})
    assert code != 0 and "signed for another bundle" in output, output


def test_linux_steps_refuse_a_mismatched_manifest_signed_by_the_same_key(made, bundle):
    """A signature whose trusted comment names another release of the same manifest id."""
    key: SecretKey = made["key"]
    data = read_manifest_bytes(bundle)
    forged = sign_manifest(data, key, f"infopack/1 id={BUNDLE_ID} seq=9 created=2026-11-01")
    (bundle / SIGNATURES_DIR / signature_file_name(key.key_id)).write_bytes(forged.to_bytes())
    code, output = run_linux(made, bundle)
    assert code != 0 and "does not name" in output, output


# ------------------------------------------------------------------ Windows steps, statically


def test_windows_blocks_are_ascii_and_use_the_careful_calls():
    assert len(WINDOWS) == 2
    settings, check = WINDOWS
    assert f"$Id   = '{BUNDLE_ID}'" in settings and "$Last = 0" in settings
    for block in WINDOWS:
        assert block.isascii(), "Windows PowerShell 5.1 reads non-ASCII script text by the ANSI code page"
    assert "[IO.File]::ReadAllLines($sums, $utf8)" in check and "[IO.File]::ReadAllText(" in check
    assert "New-Object System.Text.UTF8Encoding" in check
    assert check.count("Get-FileHash -LiteralPath") == 2 and "-Algorithm SHA256" in check
    assert "ToLowerInvariant()" in check
    assert "-Recurse -Force -File" in check  # hidden and system files (autorun.inf, desktop.ini) too
    assert "Test-Path -LiteralPath" in check and " -Path " not in check
    assert "-V -H -Q -p $Pub" in check


def quoted_after(block: str, marker: str) -> str:
    match = re.search(re.escape(marker) + r" '([^']*)'", block)
    assert match, marker
    return match.group(1)


def test_windows_patterns_match_a_real_bundle(made):
    check = WINDOWS[1]
    bundle: Path = made["bundle"]
    manifest = (bundle / "manifest.json").read_text(encoding="utf-8")
    sums_lines = (bundle / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    comment = f"infopack/1 id={BUNDLE_ID} seq={SEQUENCE} created=2026-11-01"

    entry = re.search(quoted_after(check, "$manifest -cmatch"), manifest)
    assert entry and entry.group(1) == hashlib.sha256((bundle / "SHA256SUMS").read_bytes()).hexdigest()
    line_pattern = quoted_after(check, "$line -cnotmatch")
    names = [re.match(line_pattern, line).group(2) for line in sums_lines]  # type: ignore[union-attr]
    assert any("안내" in name for name in names)
    matched = re.match(quoted_after(check, "$comment -notmatch"), comment, re.IGNORECASE)
    assert matched and matched.groups() == (BUNDLE_ID, str(SEQUENCE))
    bundle_line = ('(?m)^"bundle": \\{"id": "' + re.escape(BUNDLE_ID) + '", .*"sequence": '
                   + str(SEQUENCE) + ', "created": ')
    assert "[regex]::Escape($Id) + '\", .*\"sequence\": ' + $seq + ', \"created\": '" in check
    assert re.search(bundle_line, manifest)

    harmless = re.compile(quoted_after(check, "$harmless ="), re.IGNORECASE)
    for name in ["System Volume Information/IndexerVolumeGuid", "$RECYCLE.BIN/S-1-5/desktop.ini",
                 "._index.html", "media/._a.png", "thumbs.db", ".Trash-1000/files/x"]:
        assert harmless.search(name), name
    for name in ["autorun.inf", "desktop.ini", "media/desktop.ini", "open me.lnk", "news.url", "index.html"]:
        assert not harmless.search(name), name


# ------------------------------------------------------------------ the honest claims


def test_docs_say_the_card_check_finds_damage_not_forgery():
    partners = DOC.read_text(encoding="utf-8")
    assert "infopack verify" in partners and "forgery" in partners
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "PARTNERS.md" in readme and "not forgery" in readme
    fmt = (REPO / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    assert "PARTNERS.md" in fmt and "not forgery" in fmt


# ------------------------------------------------------------------ a key change (FORMAT.md 10.6)

KEY_CHANGE = fenced(section("When the publisher changes keys"), "sh")


def rotated_card(made, bundle: Path, *, signer: SecretKey | None = None) -> SecretKey:
    """BUNDLE re-signed by a new key only, carrying the old key's hand-over to it (or SIGNER's)."""
    from infopack.trust.rotation import make_rotation

    new = generate_secret_key("new publisher key")
    handed_by = signer or made["key"]
    shutil.rmtree(bundle / SIGNATURES_DIR)
    sign_bundle(bundle, new)
    rotation = make_rotation(handed_by, new.public_key(), BUNDLE_ID, SEQUENCE, "2026-11-02")
    for name, data in ((rotation.statement.file_name(), rotation.statement_bytes),
                       (rotation.statement.file_name() + ".minisig", rotation.signature_bytes)):
        (bundle / SIGNATURES_DIR / name).write_bytes(data)
    return new


def run_key_change(made, bundle: Path, home: Path) -> tuple[int, str]:
    shutil.copy(made["home"] / "publisher.pub", home / "publisher.pub")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           "PUB": str(home / "publisher.pub"), "ID": BUNDLE_ID, "LAST": "0"}
    result = subprocess.run(["bash"], input=KEY_CHANGE[0], cwd=bundle, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    return result.returncode, result.stdout + result.stderr


def test_key_change_steps_let_a_partner_on_the_old_key_accept_the_new_one(made, bundle, tmp_path):
    assert len(KEY_CHANGE) == 1
    new = rotated_card(made, bundle)
    code, output = run_linux(made, bundle)
    assert code != 0 and "no signature by your key" in output  # the old key alone: refused
    home = tmp_path / "home"
    home.mkdir()
    code, output = run_key_change(made, bundle, home)
    assert code == 0, output
    assert f"it signs from sequence {SEQUENCE} on" in output
    assert (home / "publisher.pub.next").read_bytes().splitlines()[1] == (
        new.public_key().to_file_bytes().splitlines()[1]
    )
    code, output = run_linux(made, bundle, settings={
        "PUB": str(home / "publisher.pub.next"), "ID": BUNDLE_ID, "LAST": "0"})
    assert code == 0, output
    assert "NOT LISTED" not in output  # the statement in signatures/ is expected there


def test_key_change_steps_refuse_a_change_signed_by_another_key(made, bundle, tmp_path):
    rotated_card(made, bundle, signer=generate_secret_key("thief"))
    home = tmp_path / "home"
    home.mkdir()
    code, output = run_key_change(made, bundle, home)
    assert code != 0 and "REFUSE: no key change here is signed by your key" in output
    assert not (home / "publisher.pub.next").exists()


def test_windows_check_lets_only_statement_names_through_in_signatures():
    pattern = re.search(r"\$name -match '(\^signatures/[^']*)'", WINDOWS[1])
    assert pattern
    allowed = re.compile(pattern.group(1))
    assert allowed.match("signatures/0123456789abcdef.minisig")
    assert allowed.match("signatures/rotation-0123456789abcdef-fedcba9876543210.txt")
    assert not allowed.match("signatures/run.url") and not allowed.match("signatures/notes.txt")
