"""The package's layers, enforced: who may import whom inside ``facecourse``.

The map below is the one in ``facecourse/__init__.py`` (a test checks that the two agree). Read
it as "a module of this layer may import modules of these layers":

* measurement and display are pure (numbers in; numbers, text or figures out): they never open a
  photo or run dlib, so they are tested on hand-made numbers, and they never import sources or
  faces;
* faces may use sources and measurement, never display;
* nothing imports rights or the entry points.

Every import counts, including one inside a function; and outside the entry points an import of a
facecourse module inside a function is not allowed at all (there is no cycle to break: a hidden
import only hides a dependency from a reader). ``python -m facecourse`` may defer its imports, so
that a command loads only what it needs. And modules talk through public names: none reaches into
another's private ones (``faceprints._load``), except the private base modules ``_checks``,
``_text`` and ``_files``, which are the package's shared vocabulary.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import facecourse

PACKAGE = Path(facecourse.__file__).parent

LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("errors", "_checks", "_text", "_files"),
    "sources": ("config", "progress", "manifest", "dataset", "images", "privacy", "classcache"),
    "measurement": ("metrics", "search", "deployment", "extrapolation", "demographics", "embeddings",
                    "synthetic"),
    "faces": ("degrade", "detection", "landmarks", "faceprints", "my_images", "classcache_build"),
    "display": ("plots", "errorplots", "widgets", "tables", "simulator", "damage_explorer",
                "gallery_explorer", "group_explorer"),
    "rights": ("audit", "rights"),
    "story": ("timeline",),
    "entry points": ("__init__", "__main__", "pytest_plugin", "grading"),
}

MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "sources": {"base", "sources"},
    "measurement": {"base", "measurement"},
    "faces": {"base", "sources", "measurement", "faces"},
    "display": {"base", "measurement", "display"},
    "rights": {"base", "sources", "measurement", "faces", "rights"},
    "story": {"base"},
    "entry points": set(LAYERS),
}

LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported facecourse module, line, inside a function?) for every import in ``module``."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                if child.level == 1 or (child.level == 0 and child.module and
                                        child.module.split(".")[0] == "facecourse"):
                    base = child.module or ""
                    base = base.removeprefix("facecourse").lstrip(".") if child.level == 0 else base
                    if base:
                        found.append((base.split(".")[0], child.lineno, in_function))
                    else:  # from . import a, b   /   from facecourse import a, b
                        found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    if parts[0] == "facecourse" and len(parts) > 1:
                        found.append((parts[1], child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def test_every_module_has_a_layer() -> None:
    missing = [m for m in _modules() if m not in LAYER_OF]
    assert not missing, (f"{missing} belong to no layer: add each to LAYERS in tests/test_layers.py and "
                         "to the module map in facecourse/__init__.py")
    gone = [m for m in LAYER_OF if m not in _modules()]
    assert not gone, f"the map names modules that do not exist: {gone}"


@pytest.mark.parametrize("module", _modules())
def test_imports_follow_the_layers(module: str) -> None:
    layer = LAYER_OF.get(module)
    if layer is None:
        pytest.skip("no layer (test_every_module_has_a_layer fails)")
    wrong = [f"line {line}: {module} ({layer}) imports {target} ({LAYER_OF.get(target, '?')})"
             for target, line, _ in _imports(module)
             if LAYER_OF.get(target) not in MAY_IMPORT[layer]]
    assert not wrong, "\n".join(wrong) + f"\n{layer} may import only {sorted(MAY_IMPORT[layer])}"


@pytest.mark.parametrize("module", _modules())
def test_no_hidden_imports_inside_functions(module: str) -> None:
    if LAYER_OF.get(module) == "entry points":
        pytest.skip("a command-line entry point loads only what the command asked for")
    hidden = [f"line {line}: imports facecourse.{target} inside a function"
              for target, line, inside in _imports(module) if inside]
    assert not hidden, "\n".join(hidden) + "\nmove it to the top of the module, where a reader sees it"


def _private_uses(module: str) -> list[str]:
    """Uses of another facecourse module's private names (``from .x import _y`` or ``x._y``)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    modules: set[str] = set()  # names bound to facecourse modules by `from . import x` / `from facecourse import x`
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").startswith("facecourse")):
            base = (node.module or "").removeprefix("facecourse").lstrip(".")
            for alias in node.names:
                if not base:
                    modules.add(alias.asname or alias.name)
                elif alias.name.startswith("_"):
                    found.append(f"line {node.lineno}: from .{base} import {alias.name}")
    for node in ast.walk(tree):
        private = isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        if (private and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.value.id not in LAYERS["base"]):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", _modules())
def test_no_module_reaches_into_another_modules_private_names(module: str) -> None:
    """Modules talk through public names; the private base modules (_checks, _text, _files) are the
    package's shared vocabulary and are imported as modules."""
    found = _private_uses(module)
    assert not found, "\n".join(found) + "\nmake the name public (and document it) or move the code"


def test_the_layer_test_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AST walk finds top-level, relative, absolute and function-level imports."""
    (tmp_path / "fake.py").write_text(
        "from . import faceprints\nfrom .plots import COLOURS\nimport facecourse.dataset\n"
        "def f():\n    from facecourse.detection import find_faces\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert _imports("fake") == [("faceprints", 1, False), ("plots", 2, False), ("dataset", 3, False),
                                ("detection", 5, True)]
    (tmp_path / "peek.py").write_text("from . import faceprints, _text\nfrom .rights import _check_text\n"
                                      "x = faceprints._load\ny = _text.percent\n", encoding="utf-8")
    assert _private_uses("peek") == ["line 2: from .rights import _check_text", "line 3: faceprints._load"]


def _docstring_map() -> dict[str, tuple[set[str], set[str]]]:
    """The table in the package docstring: layer -> (modules, layers it may import)."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    layer = None
    for line in (facecourse.__doc__ or "").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != 3 or cells[0].startswith("-") or cells[0] == "layer":
            continue
        layer = cells[0] or layer
        assert layer is not None, f"a row without a layer before the first layer: {line!r}"
        modules, may = rows.setdefault(layer, (set(), set()))
        modules.update(re.findall(r"[a-z_]+", cells[1]))
        may.update(p.strip() for p in cells[2].split(",") if p.strip())
    return rows


def test_the_package_docstring_shows_the_same_map() -> None:
    shown = _docstring_map()
    assert set(shown) == set(LAYERS), f"docstring layers {sorted(shown)} vs {sorted(LAYERS)}"
    for layer, modules in LAYERS.items():
        assert shown[layer][0] == set(modules), f"{layer}: docstring lists {sorted(shown[layer][0])}"
        may = set(LAYERS) if shown[layer][1] == {"anything"} else shown[layer][1]
        assert may == MAY_IMPORT[layer], f"{layer}: docstring says it may import {sorted(may)}"
