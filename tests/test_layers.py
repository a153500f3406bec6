"""The package's layers, as README "How the code is laid out" states them, checked on the code.

format <- trust (verify) <- update (delta, apply: never build code); format <- content <- build <- plan;
commands on top, each loaded only when it runs, none importing another.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "infopack"

# What each layer may import of infopack (besides itself, `errors`, which imports nothing, and
# `atomic`, the one atomic file writer, which imports only the standard library).
ALLOWED = {
    "atomic": set(),
    "progress": set(),
    "format": set(),
    "trust": {"format"},
    "content": {"format"},
    "build": {"format", "content", "trust"},
    "plan": {"format", "content", "build", "trust"},
    "drives": {"format", "trust"},
    "ingest": {"format", "content"},
    "export": {"format", "trust"},
    "update": {"format", "trust"},
    "commands": {"format", "trust", "content", "build", "plan", "drives", "ingest", "export", "update"},
}
# Third-party libraries only the build side uses: a partner's `verify` must not load them either.
BUILD_LIBRARIES = ("PIL", "nh3", "markdown_it", "jinja2", "yaml", "zstandard")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every infopack module `path` imports, at the top or inside functions, but not under
    `if TYPE_CHECKING:` (those never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("infopack"):
            for alias in node.names:  # `from infopack.build import media` imports infopack.build.media
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if module_path(candidate) else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("infopack"))
    return found


def module_path(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycles_counting_imports_inside_functions():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target == node or target not in edges:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, targets in graph().items():
        own = layer(module)
        if own not in ALLOWED:
            continue
        for target in targets:
            other = layer(target)
            if other not in (own, "errors", "atomic", "progress", "") and other not in ALLOWED[own]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_command_module_imports_another():
    for module, targets in graph().items():
        if module.startswith("infopack.commands.") and module not in ("infopack.commands.support", "infopack.commands.__main__"):
            others = {t for t in targets if t.startswith("infopack.commands") and t not in (module, "infopack.commands.support")}
            assert not others, f"{module} imports {others}"


def test_verify_loads_no_build_code_nor_build_libraries():
    # A bug in build must not be able to make verify agree with it. Run `infopack verify` the way a
    # partner does (through the CLI, up to its usage error) and list what got imported.
    probe = (
        "import sys\n"
        "from infopack.commands import main\n"
        "try:\n"
        "    main(['verify', '/nonexistent-bundle', '--trust', '/nonexistent.pub'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert "infopack.commands.verify" in loaded and "infopack.trust.verify" in loaded  # the probe ran verify
    ours = [m for m in loaded if m.startswith(("infopack.build", "infopack.content", "infopack.plan",
                                               "infopack.ingest", "infopack.export", "infopack.drives"))]
    assert ours == []
    theirs = [m for m in loaded if m.split(".")[0] in BUILD_LIBRARIES]
    assert theirs == []


def test_help_loads_no_command_module():
    probe = (
        "import sys\nfrom infopack.commands import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED:' + ' '.join(m for m in sys.modules if m.startswith('infopack.commands.')))\n"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "verify" in output and "build" in output  # the help was printed
    assert output.strip().splitlines()[-1] == "LOADED:"


def test_apply_and_delta_load_no_build_code_nor_build_libraries():
    # A partner applies updates with the same trust as verify: no build code, no build libraries.
    for argv in (["apply", "/nonexistent.delta", "/nonexistent-bundle", "--trust", "/nonexistent.pub"],
                 ["delta", "/nonexistent-old", "/nonexistent-new", "--out", "/nonexistent/x.delta"]):
        probe = (
            "import sys\n"
            "from infopack.commands import main\n"
            "try:\n"
            f"    main({argv!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(' '.join(sorted(sys.modules)))\n"
        )
        loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        assert f"infopack.commands.{argv[0]}" in loaded and f"infopack.update.{argv[0]}" in loaded  # the probe ran it
        ours = [m for m in loaded if m.startswith(("infopack.build", "infopack.content", "infopack.plan",
                                                   "infopack.ingest", "infopack.export", "infopack.drives"))]
        assert ours == []
        theirs = [m for m in loaded if m.split(".")[0] in BUILD_LIBRARIES]
        assert theirs == []
