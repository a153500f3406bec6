"""infopack copy onto real FAT32 file systems (mkfs.vfat + fusefat), a lying drive, and a
loop-mounted ext4 image where the kernel page cache can be caught hiding a corruption."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build.assemble import build_bundle
from infopack.build.output import write_manifest
from infopack.commands import main
from infopack.drives.copy import (
    CopyFile,
    VerifiedSource,
    check_fat32_limits,
    copy_bundle,
    read_back_target,
    verify_source,
)
from infopack.errors import InfopackError
from infopack.format.manifest import BundleInfo
from infopack.trust.keys import SecretKey, generate_secret_key, write_key_pair
from infopack.trust.sign import sign_bundle
from infopack.trust.verify import verify_bundle
from kit.fatfs import fat_drive, lying_drive, missing_tools

CONTENT = Path(__file__).resolve().parents[2] / "content"
MB = 1024 * 1024

_fat_missing = missing_tools()
needs_fat = pytest.mark.skipif(_fat_missing is not None, reason=_fat_missing or "")
_lying_missing = missing_tools(lying=True)
needs_lying = pytest.mark.skipif(_lying_missing is not None, reason=_lying_missing or "")


@pytest.fixture(scope="module")
def key() -> SecretKey:
    return generate_secret_key("publisher")


@pytest.fixture(scope="module")
def example_bundle(tmp_path_factory, key) -> Path:
    """The example content built by the real pipeline and signed."""
    out = tmp_path_factory.mktemp("example") / "bundle"
    build_bundle(CONTENT, out)
    sign_bundle(out, key)
    return out


def made_bundle(root: Path, key: SecretKey, files: dict[str, bytes], *, sequence: int = 1) -> Path:
    """A signed bundle of given files (for sizes the example content does not reach)."""
    root.mkdir(parents=True)
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    write_manifest(root, BundleInfo("demo", "Demo", "", "en", sequence, "2026-11-01", ""))
    sign_bundle(root, key)
    return root


def media_files(total_bytes: int, pieces: int = 4) -> dict[str, bytes]:
    files = {"index.html": b"<!doctype html><title>demo</title>\n"}
    for number in range(pieces):
        files[f"media/clip-{number}.mp4"] = os.urandom(total_bytes // pieces)
    return files


@pytest.fixture
def fat(tmp_path):
    drive = fat_drive(tmp_path / "fat-a", 40 * MB)
    yield drive
    drive.unmount()


@pytest.fixture
def fat_pair(tmp_path):
    drives = [fat_drive(tmp_path / name, 40 * MB) for name in ("fat-a", "fat-b")]
    yield drives
    for drive in drives:
        drive.unmount()


@pytest.fixture
def liar(tmp_path):
    """Claims 40 MiB, holds 20 MiB."""
    drive = lying_drive(tmp_path / "liar", 20 * MB, 40 * MB)
    yield drive
    drive.close()


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


# ----------------------------------------------------------------------------- FAT32


@needs_fat
def test_copy_to_two_fat32_drives_verifies_after_remount(example_bundle, key, fat_pair):
    report = copy_bundle(example_bundle, [d.root for d in fat_pair], [key.public_key()])
    assert report.ok, report.table()
    assert report.exit_code == 0
    for drive, result in zip(fat_pair, report.targets):
        assert result.read_back_text == "OK"
        assert result.bytes_written == sum(f.stat().st_size for f in example_bundle.rglob("*") if f.is_file())
        drive.unmount()
        assert drive.fsck().returncode == 0, drive.fsck().stdout
        drive.mount()
        # The drive alone, read by the independent verifier, is the signed bundle: no temporary
        # names, no journal, nothing extra.
        assert files_under(drive.root) == files_under(example_bundle)
        assert verify_bundle(drive.root, [key.public_key()]).ok


@needs_fat
def test_without_signatures_leaves_them_off_and_still_reads_back(example_bundle, key, fat):
    report = copy_bundle(example_bundle, [fat.root], [key.public_key()], with_signatures=False)
    assert report.ok, report.table()
    assert not (fat.root / "signatures").exists()
    detached = next((example_bundle / "signatures").iterdir())
    assert verify_bundle(fat.root, [key.public_key()], signature_files=[detached]).ok


@needs_fat
def test_corruption_in_the_fat_image_is_caught_by_read_back(tmp_path, key, fat):
    bundle = made_bundle(tmp_path / "b", key, media_files(2 * MB))
    source = verify_source(bundle, [key.public_key()])
    assert copy_bundle(bundle, [fat.root], [key.public_key()]).ok
    victim = "media/clip-2.mp4"
    _flip_bytes_in_image(fat.image, (bundle / victim).read_bytes(), at=300_000)
    failures = read_back_target(fat.root, source)
    assert len(failures) == 1 and failures[0].startswith(f"{victim}: ")


def _flip_bytes_in_image(image: Path, file_data: bytes, at: int) -> None:
    """Change 16 bytes of a file directly in the disk image, beneath every cache above it."""
    offset = image.read_bytes().find(file_data[at:at + 4096])
    assert offset >= 0, "file data not found in the image"
    with open(image, "r+b") as raw:
        raw.seek(offset)
        original = raw.read(16)
        raw.seek(offset)
        raw.write(bytes(b ^ 0xFF for b in original))
        raw.flush()
        os.fsync(raw.fileno())


@pytest.fixture
def ext4_loop(tmp_path):
    """A loop-mounted ext4 image: the kernel keeps file pages cached above the loop device."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("needs root and mkfs.ext4 for a loop mount")
    image, mountpoint = tmp_path / "ext4.img", tmp_path / "ext4"
    mountpoint.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(16 * MB)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mount -o loop not permitted here: {mounted.stderr.strip()}")
    yield image, mountpoint
    subprocess.run(["umount", str(mountpoint)], check=True)


def test_read_back_comes_from_the_device_not_the_page_cache(tmp_path, key, ext4_loop):
    image, target = ext4_loop
    bundle = made_bundle(tmp_path / "b", key, media_files(2 * MB))
    source = verify_source(bundle, [key.public_key()])
    assert copy_bundle(bundle, [target], [key.public_key()]).ok
    victim = "media/clip-1.mp4"
    good = (bundle / victim).read_bytes()
    _flip_bytes_in_image(image, good, at=200_000)
    # A plain read is served from the page cache and still shows the good bytes: a read-back
    # that did not bypass the cache would pass this drive.
    assert (target / victim).read_bytes() == good
    failures = read_back_target(target, source)
    assert [line.split(":")[0] for line in failures] == [victim]


# ----------------------------------------------------------------------------- lying drive


@needs_lying
def test_lying_drive_is_refused_by_probe_before_anything_is_written(tmp_path, key, liar):
    bundle = made_bundle(tmp_path / "b", key, media_files(1 * MB))
    report = copy_bundle(bundle, [liar.fat.root], [key.public_key()], probe=True)
    [result] = report.targets
    assert report.exit_code == 1
    assert result.probe is not None and result.probe.lies
    assert result.probe.wrapped_sectors > 0
    assert result.probe.intact_bytes <= liar.real_bytes
    assert "lies about its size" in result.error and "nothing written" in result.error
    assert result.bytes_written == 0
    assert os.listdir(liar.fat.root) == []  # probe files cleaned up, no bundle files


@needs_lying
def test_lying_drive_is_caught_by_read_back_without_probe(tmp_path, key, liar):
    # 28 MiB fits what the file system claims (40) but not what the flash holds (20).
    bundle = made_bundle(tmp_path / "b", key, media_files(28 * MB, pieces=7))
    report = copy_bundle(bundle, [liar.fat.root], [key.public_key()])
    [result] = report.targets
    assert result.error is None  # every write "succeeded"
    assert result.failed_files, "the wrapped writes must show in the read-back"
    assert result.read_back_text.startswith("FAILED")
    assert report.exit_code == 1


@needs_fat
def test_probe_passes_an_honest_drive_and_cleans_up(tmp_path, key, fat):
    bundle = made_bundle(tmp_path / "b", key, media_files(1 * MB))
    report = copy_bundle(bundle, [fat.root], [key.public_key()], probe=True)
    [result] = report.targets
    assert report.ok, report.table()
    assert not result.probe.lies and result.probe.intact_bytes > 30 * MB
    assert files_under(fat.root) == files_under(bundle)


# ----------------------------------------------------------------------------- safety, resume


def test_bundle_that_does_not_verify_is_not_copied(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(64 * 1024))
    (bundle / "media/clip-0.mp4").write_bytes(b"tampered")
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(InfopackError) as caught:
        copy_bundle(bundle, [target], [key.public_key()])
    assert "media/clip-0.mp4" in str(caught.value)
    assert list(target.iterdir()) == []


def test_wrong_key_is_not_copied(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    (tmp_path / "t").mkdir()
    with pytest.raises(InfopackError, match="did not verify"):
        copy_bundle(bundle, [tmp_path / "t"], [generate_secret_key().public_key()])


@needs_fat
def test_target_with_other_files_is_refused_unless_forced(tmp_path, key, fat):
    bundle = made_bundle(tmp_path / "b", key, media_files(64 * 1024))
    (fat.root / "holiday.jpg").write_bytes(b"someone's photo")
    with pytest.raises(InfopackError, match="holds other files"):
        copy_bundle(bundle, [fat.root], [key.public_key()])
    assert files_under(fat.root) == {"holiday.jpg"}
    report = copy_bundle(bundle, [fat.root], [key.public_key()], force=True)
    assert report.ok
    assert (fat.root / "holiday.jpg").read_bytes() == b"someone's photo"


def test_folders_an_os_puts_on_a_fresh_drive_are_not_other_files(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    target = tmp_path / "t"
    (target / "System Volume Information").mkdir(parents=True)
    (target / "System Volume Information/IndexerVolumeGuid").write_bytes(b"{guid}")
    assert copy_bundle(bundle, [target], [key.public_key()]).ok
    assert (target / "System Volume Information/IndexerVolumeGuid").read_bytes() == b"{guid}"


def test_someone_elses_index_html_is_not_overwritten_without_force(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    target = tmp_path / "t"
    target.mkdir()
    (target / "index.html").write_text("my own page")
    with pytest.raises(InfopackError, match="holds other files"):
        copy_bundle(bundle, [target], [key.public_key()])
    assert (target / "index.html").read_text() == "my own page"


@needs_fat
def test_not_enough_free_space_is_refused_before_writing(tmp_path, key, fat):
    bundle = made_bundle(tmp_path / "b", key, media_files(44 * MB))
    with pytest.raises(InfopackError, match="not enough free space"):
        copy_bundle(bundle, [fat.root], [key.public_key()])
    assert os.listdir(fat.root) == []


@needs_fat
def test_a_bundle_that_fits_is_not_refused_for_space(tmp_path, key, fat):
    # One file of 36 MB on a drive with about 41.8 MB free: no room for a second copy of it,
    # and none is needed on an empty drive.
    bundle = made_bundle(tmp_path / "b", key, media_files(36 * MB, pieces=1))
    assert copy_bundle(bundle, [fat.root], [key.public_key()]).ok


@needs_fat
def test_interrupted_copy_resumes_and_ends_verified(tmp_path, key, fat):
    """A real interruption: the copy process is killed while writing, then run again."""
    bundle = made_bundle(tmp_path / "b", key, media_files(16 * MB, pieces=8))
    _, pub = write_key_pair(tmp_path / "p", key, None)
    command = [sys.executable, "-c", "from infopack.commands import main; main()",
               "copy", str(bundle), str(fat.root), "--trust", str(pub)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None and not (fat.root / "media/clip-1.mp4").exists():
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    report = copy_bundle(bundle, [fat.root], [key.public_key()])
    assert report.ok, report.table()
    assert report.targets[0].files_kept >= 1  # at least manifest.json and clip-0 were done
    assert files_under(fat.root) == files_under(bundle)  # no temporary names left
    assert verify_bundle(fat.root, [key.public_key()]).ok


def test_resume_rewrites_a_damaged_file_and_removes_temporaries(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(256 * 1024))
    target = tmp_path / "t"
    target.mkdir()
    assert copy_bundle(bundle, [target], [key.public_key()]).ok
    (target / "media/clip-3.mp4").write_bytes(b"half")  # as if the drive lost it
    (target / "media/.infopack-part-7").write_bytes(b"left by a killed copy")
    report = copy_bundle(bundle, [target], [key.public_key()])
    [result] = report.targets
    assert report.ok
    assert result.files_written == 1 and result.bytes_written == 64 * 1024
    assert files_under(target) == files_under(bundle)


def test_new_release_replaces_the_old_copy_and_removes_its_leftovers(tmp_path, key):
    old = made_bundle(tmp_path / "old", key, {"index.html": b"v1", "media/gone.mp3": b"old audio"})
    new = made_bundle(tmp_path / "new", key, {"index.html": b"v2", "data/text/0000.js": b"x"}, sequence=2)
    target = tmp_path / "t"
    target.mkdir()
    assert copy_bundle(old, [target], [key.public_key()]).ok
    report = copy_bundle(new, [target], [key.public_key()])
    assert report.ok
    assert files_under(target) == files_under(new)
    assert not (target / "media").exists()  # an empty folder would fail verification
    assert verify_bundle(target, [key.public_key()]).ok


def test_never_writes_or_deletes_through_a_link_out_of_the_target(tmp_path, key):
    old = made_bundle(tmp_path / "old", key, {"index.html": b"v1", "media/a.mp3": b"a"})
    target = tmp_path / "t"
    target.mkdir()
    assert copy_bundle(old, [target], [key.public_key()]).ok
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.mp3").write_bytes(b"precious")
    shutil.rmtree(target / "media")
    (target / "media").symlink_to(outside)
    with pytest.raises(InfopackError, match="link"):
        copy_bundle(old, [target], [key.public_key()], force=True)
    assert (outside / "a.mp3").read_bytes() == b"precious"


def test_fat32_limits_are_checked_before_writing():
    big = CopyFile("media/film.mp4", 4 * 1024**3, "0" * 64)
    twins = [CopyFile("media/A.mp3", 1, "0" * 64), CopyFile("media/a.mp3", 1, "0" * 64)]
    source = VerifiedSource(Path("."), None, (big, *twins))  # type: ignore[arg-type]
    with pytest.raises(InfopackError) as caught:
        check_fat32_limits(source)
    text = str(caught.value)
    assert "media/film.mp4: 4,294,967,296 bytes is over FAT32's limit" in text
    assert "media/a.mp3: same name as media/A.mp3" in text


def test_same_target_twice_and_target_inside_bundle_are_refused(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(InfopackError, match="same folder"):
        copy_bundle(bundle, [target, tmp_path / "." / "t"], [key.public_key()])
    with pytest.raises(InfopackError, match="inside it"):
        copy_bundle(bundle, [bundle / "media"], [key.public_key()])


# ----------------------------------------------------------------------------- command line


@needs_fat
def test_cli_prints_a_table_and_exits_0_only_when_every_target_verified(tmp_path, key, example_bundle, fat):
    write_key_pair(tmp_path / "p", key, None)
    plain = tmp_path / "plain"
    plain.mkdir()
    runner = CliRunner()
    result = runner.invoke(main, ["copy", str(example_bundle), str(fat.root), str(plain),
                                  "--trust", str(tmp_path / "p.pub"), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["target", "written", "kept", "time", "MB/s", "read-back"]
    assert all(line.endswith("OK") for line in lines[1:]) and len(lines) == 3


@needs_lying
def test_cli_exits_1_for_a_lying_drive_while_the_honest_one_is_written(tmp_path, key, liar, fat):
    bundle = made_bundle(tmp_path / "b", key, media_files(1 * MB))
    write_key_pair(tmp_path / "p", key, None)
    result = CliRunner().invoke(main, ["copy", str(bundle), str(fat.root), str(liar.fat.root),
                                       "--trust", str(tmp_path / "p.pub"), "--probe"])
    assert result.exit_code == 1
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.startswith("/")}
    assert rows[str(fat.root)].endswith("OK")
    assert "FAILED: drive lies about its size" in rows[str(liar.fat.root)]
    assert files_under(fat.root) == files_under(bundle)
    assert "Traceback" not in result.output


def test_cli_bad_key_is_a_usage_error(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    (tmp_path / "bad.pub").write_text("nonsense\n")
    (tmp_path / "t").mkdir()
    result = CliRunner().invoke(main, ["copy", str(bundle), str(tmp_path / "t"), "--trust", str(tmp_path / "bad.pub")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_cli_threshold_above_the_keys_is_a_usage_error(tmp_path, key):
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    write_key_pair(tmp_path / "p", key, None)
    (tmp_path / "t").mkdir()
    result = CliRunner().invoke(main, ["copy", str(bundle), str(tmp_path / "t"), "--trust",
                                       str(tmp_path / "p.pub"), "--threshold", "2"])
    assert result.exit_code == 2
    assert "threshold 2" in result.output and "Traceback" not in result.output
    assert os.listdir(tmp_path / "t") == []


def test_copy_keeps_rotation_statements_so_a_partner_on_the_old_key_can_verify_the_card(tmp_path, key):
    # Dropping signatures/rotation-* on the way to the card would leave partners who trust only
    # the old key unable to verify it (and a copy run that trusts the old key would fail itself).
    from infopack.trust.rotation import make_rotation

    new = generate_secret_key("new")
    bundle = made_bundle(tmp_path / "b", key, media_files(1024))
    sign_bundle(bundle, new, rotations=[make_rotation(key, new.public_key(), "demo", 1, "2026-04-01")])
    target = tmp_path / "t"
    target.mkdir()
    assert copy_bundle(bundle, [target], [key.public_key()]).ok
    rotation_files = sorted(path.name for path in (target / "signatures").glob("rotation-*"))
    assert len(rotation_files) == 2
    assert verify_bundle(target, [key.public_key()]).ok
