"""Interrupted and crashed builds, with real processes and real signals.

A build is run as `python -m infopack.commands build ...` in a session of its own (its own process
group, as a terminal's foreground job is), then interrupted the way a person or the system does
it: Ctrl-C (SIGINT to the whole group) or kill -9 (SIGKILL to the build process alone). Afterwards
--out must hold a whole, signed bundle (the old one or the new one), the build's worker processes
must be gone, and the next build must clear what was left beside --out.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infopack.build.assemble import PARALLEL_RENDER_MIN
from infopack.commands import main
from infopack.trust.keys import load_public_key
from infopack.trust.verify import verify_bundle
from kit.content import REPO, article, tree_digest, write_content

sys.path.insert(0, str(REPO / "bench"))
from gen_corpus import write_content_folder

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="apt-get install ffmpeg")
needs_workers = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the build renders without workers")


# ----------------------------------------------------------------------------- helpers


class Build(subprocess.Popen):
    """`infopack build ...` in its own session. Its output goes to files, not pipes: a worker that
    outlived a killed build would hold a pipe open, and reading it would wait for that worker."""

    def __init__(self, *arguments: str, ignore_sigint: bool = False) -> None:
        out = Path(arguments[arguments.index("--out") + 1])
        self.leftovers_at_start = set(leftovers(out)) if out.parent.is_dir() else set()
        self.manifest_at_start = manifest_identity(out)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by finish)
        super().__init__(
            [sys.executable, "-m", "infopack.commands", "build", *arguments],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None,
        )  # fmt: skip

    def finish(self, timeout: float = 120) -> str:
        """Wait for the build to end; its output."""
        self.wait(timeout=timeout)
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace")
        self.log.close()
        return text


def start_build(*arguments: str, ignore_sigint: bool = False) -> Build:
    """`infopack build ...` as its own process group. With `ignore_sigint` it starts the way a
    script's background job (`infopack build ... &`) does: with SIGINT ignored."""
    return Build(*arguments, ignore_sigint=ignore_sigint)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for listing in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found |= {int(child) for child in Path(listing).read_text().split()}
        except OSError:
            pass
    return found


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan stays a zombie until init reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(condition, what: str, process: Build | None = None, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the build ended before {what}: {process.finish()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def manifest_identity(out: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(out / "manifest.json")
    except OSError:
        return None
    return info.st_dev, info.st_ino


def nearly_done(out: Path, process: Build) -> bool:
    """The build has written its manifest (in its hidden folder, or already at --out): the swap and
    the signing are near. Folders there before the build started, a killed build's, do not count."""
    if manifest_identity(out) != process.manifest_at_start:
        return True
    pattern = str(out.parent / f".{out.name}.partial-*" / "manifest.json")
    return any(Path(found).parent.name not in process.leftovers_at_start for found in glob.glob(pattern))


def assert_only_hidden_leftovers(out: Path, keep: set[str]) -> None:
    """Beside --out there is nothing a reader would take for a bundle: only hidden folders."""
    for path in out.parent.iterdir():
        assert path.name in keep or path.name.startswith(f".{out.name}."), path


def make_key(tmp_path: Path) -> tuple[Path, object]:
    made = CliRunner().invoke(main, ["keygen", str(tmp_path / "publisher"), "--unencrypted"])
    assert made.exit_code == 0, made.output
    return tmp_path / "publisher.key", load_public_key(tmp_path / "publisher.pub")


def corpus(path: Path, count: int, sequence: int, seed: int) -> Path:
    write_content_folder(count, path, seed=seed)
    toml = path / "infopack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("sequence = 1", f"sequence = {sequence}"), encoding="utf-8")
    return path


def video_content(path: Path, seconds: int) -> Path:
    """One article with an MPEG-4 Part 2 video in Matroska: the build must transcode it (slowly)."""
    (path / "media").mkdir(parents=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
                    "-c:v", "mpeg4", "-q:v", "3", "-c:a", "mp2", str(path / "media" / "clip.mkv")],
                   check=True)  # fmt: skip
    return write_content(path, {"clip.md": article(title="A clip", body="![clip](../media/clip.mkv)")})


def signed_state(out: Path, public) -> int:
    """The sequence of the whole, trusted-signed bundle at `out`; fails the test otherwise."""
    assert out.is_dir(), f"nothing at {out}"
    report = verify_bundle(out, [public])
    assert report.ok, report.to_text()
    return report.bundle.sequence


# ----------------------------------------------------------------------------- Ctrl-C


def wait_for_render_workers(process: Build) -> None:
    wait_for(lambda: len([c for c in children(process.pid) if command_name(c) != "ffmpeg"]) >= 2,
             "render workers", process)  # fmt: skip


def wait_for_ffmpeg(process: Build) -> None:
    wait_for(lambda: any(command_name(c) == "ffmpeg" for c in children(process.pid)), "ffmpeg", process)


@needs_ffmpeg
@needs_workers
@pytest.mark.parametrize("moment", ["render", "media"])
def test_ctrl_c_says_interrupted_not_unreadable_video_and_keeps_the_old_bundle(moment, tmp_path):
    """Started like a script's background job (SIGINT ignored, which ffmpeg does not keep), the
    build used to report the video ffmpeg was transcoding as "not a readable video", or to ignore
    Ctrl-C and finish. Now Ctrl-C stops it with one line, exit 130, and --force's old bundle stays."""
    if moment == "render":
        content = write_content_folder(max(3000, 10 * PARALLEL_RENDER_MIN), tmp_path / "c")
    else:
        content = video_content(tmp_path / "c", seconds=20)
    out = tmp_path / "out"
    write_content(tmp_path / "old", {"old.md": article(title="The old bundle")})
    assert CliRunner().invoke(main, ["build", str(tmp_path / "old"), "--out", str(out), "--quiet"]).exit_code == 0
    old = tree_digest(out)

    process = start_build(str(content), "--out", str(out), "--force", "--quiet", ignore_sigint=True)
    (wait_for_render_workers if moment == "render" else wait_for_ffmpeg)(process)
    helpers = children(process.pid)
    time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stderr = process.finish(timeout=60)

    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["error: interrupted; nothing was written"]
    assert tree_digest(out) == old
    assert leftovers(out) == []
    wait_for(lambda: not any(running(pid) for pid in helpers), "the workers and ffmpeg to end", timeout=10)


# ----------------------------------------------------------------------------- kill -9


@needs_workers
def test_killed_build_takes_its_render_workers_with_it(tmp_path):
    """Two render workers of a build killed with kill -9 were still alive ten minutes later: they
    wait on a job queue whose pipe they hold themselves. Now they end with the build."""
    content = write_content_folder(max(3000, 10 * PARALLEL_RENDER_MIN), tmp_path / "c")
    out = tmp_path / "out"
    process = start_build(str(content), "--out", str(out), "--quiet")
    wait_for_render_workers(process)
    workers = children(process.pid)
    time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.finish()

    wait_for(lambda: not any(running(pid) for pid in workers), f"workers {sorted(workers)} to end", timeout=5)
    assert not out.exists()
    assert_only_hidden_leftovers(out, keep={"c"})


@needs_ffmpeg
def test_next_build_clears_a_killed_builds_leftovers_but_not_a_live_builds_folder(tmp_path):
    """A killed build's hidden `.out.partial-*` folder used to stay forever. The next build removes
    it, while the folder of a build still running beside it is left alone (it still finishes)."""
    slow = video_content(tmp_path / "slow", seconds=8)
    out = tmp_path / "out"
    killed = start_build(str(slow), "--out", str(out), "--quiet")
    wait_for_ffmpeg(killed)
    os.killpg(killed.pid, signal.SIGKILL)  # the build and its ffmpeg
    killed.finish()
    dead_leftovers = leftovers(out)
    assert dead_leftovers and all(".out.partial-" in name for name in dead_leftovers)

    live = start_build(str(slow), "--out", str(out), "--force", "--quiet")
    wait_for_ffmpeg(live)
    live_leftovers = set(leftovers(out)) - set(dead_leftovers)
    assert len(live_leftovers) == 1

    quick = write_content(tmp_path / "quick", {"q.md": article(title="Quick")})
    assert CliRunner().invoke(main, ["build", str(quick), "--out", str(out), "--quiet"]).exit_code == 0
    assert set(leftovers(out)) == live_leftovers  # the dead build's folder is gone, the live one's is not

    stderr = live.finish(timeout=120)
    assert live.returncode == 0, stderr
    assert (out / "media").is_dir()  # the live build's bundle (with the clip) replaced the quick one
    assert leftovers(out) == []


def test_bundle_moved_aside_by_a_build_killed_mid_swap_is_put_back(tmp_path):
    """Without an atomic swap a build renames the old bundle to `.out.old-<pid>-*` before renaming
    the new one in. Killed between the two, it leaves nothing at --out; the next build puts the
    old bundle back before anything else (so without --force it says "already exists")."""
    content = write_content(tmp_path / "c", {"a.md": article(title="Kept")})
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(content), "--out", str(out), "--quiet"]).exit_code == 0
    before = tree_digest(out)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(gone.stdout)  # a process that has ended: the killed build
    out.rename(tmp_path / f".out.old-{dead_pid}-x1y2z3")  # the state that build left
    (tmp_path / f".out.partial-{dead_pid}-x1y2z3").mkdir()

    again = CliRunner().invoke(main, ["build", str(content), "--out", str(out), "--quiet"])
    assert again.exit_code == 1 and "already exists; use --force" in again.output
    assert tree_digest(out) == before
    assert leftovers(out) == []


@needs_workers
def test_kill_9_during_a_signed_force_rebuild_leaves_a_whole_signed_bundle(tmp_path):
    """`build --force --sign` over a signed bundle, killed at many points: --out always holds the
    whole old or the whole new bundle, signed. Before, a kill between the two renames left
    nothing at --out, and one after them but before signing left an unsigned bundle there."""
    key, public = make_key(tmp_path)
    contents = [corpus(tmp_path / f"c{sequence}", 3 * PARALLEL_RENDER_MIN // 2, sequence, seed=sequence)
                for sequence in (1, 2)]  # fmt: skip
    out = tmp_path / "out"

    def build(number: int) -> subprocess.Popen:
        return start_build(str(contents[number % 2]), "--out", str(out), "--force", "--sign", str(key), "--quiet")

    # One full build, timing the tail: from the finished manifest in the hidden folder to the end.
    first = build(0)
    wait_for(lambda: nearly_done(out, first), "a finished manifest", first)
    tail_start = time.monotonic()
    first.finish(timeout=120)
    tail = time.monotonic() - tail_start
    assert first.returncode == 0 and signed_state(out, public) == 1

    # Kills spread over the tail (the swap and signing happen there), then a few earlier ones.
    moments = [("tail", tail * 1.3 * step / 16) for step in range(16)] + [("start", s) for s in (0.3, 0.6, 1.0, 1.5)]
    outcomes = set()
    for number, (anchor, delay) in enumerate(moments, start=1):
        before = signed_state(out, public)
        process = build(number)  # builds the other sequence than the one at --out
        if anchor == "tail":
            wait_for(lambda p=process: nearly_done(out, p), "a finished manifest", process)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.finish()
        after = signed_state(out, public)  # whole and signed, whichever it is
        outcomes.add("old" if after == before else "new")
        assert_only_hidden_leftovers(out, keep={"c1", "c2", "out", "publisher.key", "publisher.pub"})
    assert outcomes == {"old", "new"}  # the kills really fell on both sides of the swap

    finished = build(1)
    stderr = finished.finish(timeout=120)
    assert finished.returncode == 0, stderr
    assert signed_state(out, public) == 2
    assert leftovers(out) == []  # what the killed builds left was cleared by the next one


# ----------------------------------------------------------------------------- no atomic swap

# A pass-through FUSE file system (Debian's python3 with python3-fusepy, as tests/fatfs.py uses):
# a real mounted folder whose kernel side cannot swap two names in one step, because fusepy's
# libfuse 2 does not know the RENAME2 request; renameat2(RENAME_EXCHANGE) gets EINVAL there, as
# on FAT, exFAT or many network file systems. (fusefat itself loses a renamed folder's contents.)
PASSTHROUGH = r"""
import errno, os, sys
import fusepy

root, mountpoint = sys.argv[1], sys.argv[2]

def real(path):
    return os.path.join(root, path.lstrip("/"))

class Passthrough(fusepy.Operations):
    def __call__(self, op, path, *args):
        try:
            return super().__call__(op, path, *args)
        except OSError as err:
            raise fusepy.FuseOSError(err.errno or errno.EIO)

    def getattr(self, path, fh=None):
        st = os.lstat(real(path))
        return {key: getattr(st, key) for key in ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid",
                                                   "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(real(path))

    def access(self, path, mode):
        return 0

    def mkdir(self, path, mode):
        os.mkdir(real(path), mode)

    def rmdir(self, path):
        os.rmdir(real(path))

    def unlink(self, path):
        os.unlink(real(path))

    def rename(self, old, new):
        os.rename(real(old), real(new))

    def chmod(self, path, mode):
        os.chmod(real(path), mode)

    def chown(self, path, uid, gid):
        return 0

    def utimens(self, path, times=None):
        os.utime(real(path), times)

    def truncate(self, path, length, fh=None):
        os.truncate(real(path), length)

    def create(self, path, mode, fi=None):
        return os.open(real(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def open(self, path, flags):
        return os.open(real(path), flags)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(fh)

    def release(self, path, fh):
        os.close(fh)

    def statfs(self, path):
        st = os.statvfs(real(path))
        return {key: getattr(st, key) for key in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
                                                   "f_files", "f_ffree", "f_favail", "f_namemax")}

fusepy.FUSE(Passthrough(), mountpoint, foreground=True, nothreads=True)
"""


@pytest.fixture
def no_exchange_folder(tmp_path):
    """A mounted folder without an atomic swap; skips when FUSE or fusepy is missing."""
    import kit.fatfs as fatfs

    reason = fatfs.missing_tools(lying=True)
    if reason:
        pytest.skip(reason)
    backing, mountpoint = tmp_path / "backing", tmp_path / "mnt"
    backing.mkdir()
    mountpoint.mkdir()
    with open(tmp_path / "passthrough.log", "ab") as log:
        server = subprocess.Popen([fatfs.SYSTEM_PYTHON, "-c", PASSTHROUGH, str(backing), str(mountpoint)],
                                  stdout=log, stderr=log)  # fmt: skip
    try:
        wait_for(lambda: os.path.ismount(mountpoint) or server.poll() is not None, "the FUSE mount", timeout=10)
        assert server.poll() is None, (tmp_path / "passthrough.log").read_text()
        yield mountpoint
    finally:
        fatfs.stop_fuse(mountpoint, server)


def test_without_an_atomic_swap_a_killed_build_never_loses_the_bundle(no_exchange_folder, tmp_path):
    """Where two folders cannot be swapped in one step, the fallback renames the old bundle aside
    and the new one in. Killed at any point, --out holds a whole signed bundle, or (between the
    two renames) nothing, with the whole old one beside it, which the next build puts back."""
    from infopack.build.output import exchange_paths

    key, public = make_key(tmp_path)
    first = write_content(tmp_path / "c1", {f"a{n}.md": article(title=f"One {n}") for n in range(30)})
    second = write_content(tmp_path / "c2", {f"b{n}.md": article(title=f"Two {n}") for n in range(30)},
                           toml='title = "Test"\nlang = "en"\nsequence = 2\nid = "test"\n')  # fmt: skip
    out = no_exchange_folder / "out"
    (no_exchange_folder / "a").mkdir()
    (no_exchange_folder / "b").mkdir()
    assert exchange_paths(no_exchange_folder / "a", no_exchange_folder / "b") is False  # the fallback runs here

    process = start_build(str(first), "--out", str(out), "--sign", str(key), "--quiet")
    wait_for(lambda p=process: nearly_done(out, p), "a finished manifest", process)
    tail_start = time.monotonic()
    stderr = process.finish(timeout=120)
    tail = time.monotonic() - tail_start
    assert process.returncode == 0, stderr
    assert signed_state(out, public) == 1

    outcomes = set()
    # Kills sweep the build's last stretch; a loaded machine stretches it, so keep sweeping (at
    # most 36 kills) until both outcomes were seen: each kill is checked on its own either way.
    for number in range(1, 37):
        if number > 12 and {"old", "new"} <= outcomes:
            break
        before = signed_state(out, public)
        process = start_build(str((first, second)[number % 2]), "--out", str(out), "--force", "--sign", str(key), "--quiet")
        wait_for(lambda p=process: nearly_done(out, p), "a finished manifest", process)
        time.sleep(tail * 1.3 * (number % 12) / 12)
        os.kill(process.pid, signal.SIGKILL)
        process.finish()
        if not out.exists():  # killed between the two renames
            outcomes.add("moved aside")
            moved = [p for p in out.parent.iterdir() if p.name.startswith(".out.old-")]
            assert len(moved) == 1 and signed_state(moved[0], public) == before
            again = start_build(str(first), "--out", str(out), "--quiet")
            stderr = again.finish(timeout=120)
            assert "already exists" in stderr  # the old bundle was put back before anything else
        after = signed_state(out, public)
        outcomes.add("old" if after == before else "new")
    assert {"old", "new"} <= outcomes
