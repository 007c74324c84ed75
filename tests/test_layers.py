"""The house rules, checked: package imports form a tree (function-level imports count), each
package imports only the ones below it, and no front-end reaches past the production to the store."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("studio", "agents", "render", "bot", "prompts")
# What each package may import of the others: studio is the film, render the camera, agents the
# director; bot composes them.
ALLOWED = {
    "studio": set(),
    "render": set(),
    "agents": {"studio"},
    "bot": {"studio", "agents", "render"},
}
FRONT_ENDS = [*(ROOT / "bot" / "discord").glob("*.py"), ROOT / "bot" / "terminal.py"]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of ours that `name` imports anywhere in its body, except under TYPE_CHECKING."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in names:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    """Module → modules it imports; a package's __init__ only re-exports, so it closes no cycle."""
    modules = _modules()
    return {
        name: {t for t in _imports(name, path, modules) if modules[t].name != "__init__.py"}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, as the path that closes it, or [] when the imports form a tree."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph.get(node, ())):
            if found := visit(target, [*path, node]):
                return found
        done.add(node)
        return []

    for start in sorted(graph):
        if found := visit(start, []):
            return found
    return []


def test_imports_form_a_tree() -> None:
    assert _cycle(_graph()) == []


def test_a_cycle_is_caught() -> None:
    assert _cycle({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}) == ["a.x", "a.y", "a.z", "a.x"]


def test_packages_import_only_those_below_them() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target in targets
        if (top := name.split(".")[0]) in ALLOWED
        and (other := target.split(".")[0]) != top
        and other not in ALLOWED[top]
        and other != "prompts"
    ]
    assert wrong == []


def test_front_ends_never_touch_the_store() -> None:
    for path in FRONT_ENDS:
        text = path.read_text(encoding="utf-8")
        assert "studio.store" not in text, path
        assert ".store." not in text, path
