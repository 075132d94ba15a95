"""The documentation names things that exist: functions, modules, files and environment variables.

Each check here was written after a review found the docs and the code had drifted apart
(issue 11): a docstring citing ``privacy.purge_person`` (no such function), CONTRIBUTING.md
recommending a helper nothing used, ``FACECOURSE_ROOT`` documented nowhere, and pyproject.toml
naming a missing ``data/*`` folder and a missing ``tests/README.md``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types

import pytest

import facecourse
from conftest import ROOT, git_files

MODULES = sorted(m.name for m in pkgutil.iter_modules(facecourse.__path__) if m.name != "__main__")
ROLE = re.compile(r":(func|class|meth|mod|data|exc|attr):`~?([A-Za-z_][\w.]*)`")
ENV = re.compile(r"\bFACECOURSE_[A-Z][A-Z_]*[A-Z]\b")


def _lookup(obj: object, parts: list[str]) -> bool:
    for part in parts:
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def resolves(module: types.ModuleType, ref: str) -> bool:
    """Sphinx-style: absolute (``facecourse.x.y``), relative to the module or the package, or
    (a method or attribute named alone) an attribute of a class the module defines or imports."""
    parts = ref.split(".")
    for k in range(len(parts), 0, -1):  # the longest importable module prefix, then attributes
        try:
            base = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        if _lookup(base, parts[k:]):
            return True
    if _lookup(module, parts):
        return True
    try:
        if _lookup(importlib.import_module(f"facecourse.{parts[0]}"), parts[1:]):
            return True
    except ImportError:
        pass
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)]
    return len(parts) == 1 and any(hasattr(c, ref) for c in classes)


def test_the_resolver_catches_a_missing_name() -> None:
    from facecourse import privacy

    assert resolves(privacy, "facecourse.privacy.purge_images") and resolves(privacy, "purge_images")
    assert not resolves(privacy, "facecourse.privacy.purge_person") and not resolves(privacy, "purge_person")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_cross_references_resolve(name: str) -> None:
    module = importlib.import_module(f"facecourse.{name}")
    source = inspect.getsource(module)
    missing = sorted({f":{role}:`{ref}`" for role, ref in ROLE.findall(source) if not resolves(module, ref)})
    assert not missing, f"facecourse/{name}.py refers to names that do not exist: {missing}"


@pytest.mark.parametrize("doc", ["CONTRIBUTING.md"])
def test_guides_name_package_functions_that_exist(doc: str) -> None:
    """Every `module.name` (or `facecourse.module.name`) in backticks is a real attribute."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    refs = re.findall(r"`(?:facecourse\.)?(" + "|".join(MODULES) + r")\.([A-Za-z_]\w*)", text)
    assert refs, f"{doc} names no package function: the pattern is wrong"
    missing = sorted({f"{m}.{n}" for m, n in refs if not hasattr(importlib.import_module(f"facecourse.{m}"), n)})
    assert not missing, f"{doc} names functions that do not exist: {missing}"


def _documented_variables() -> set[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)
    assert len(section) == 2, "CONTRIBUTING.md has no '## Environment variables' section"
    table = [line for line in section[1].split("\n## ", 1)[0].splitlines() if line.startswith("|")]
    return {v for line in table for v in ENV.findall(line.split("|")[1])}


def test_every_environment_variable_is_documented_in_one_table() -> None:
    used = set()
    for path in git_files():
        if path.endswith((".py", ".sh", ".cfg", ".toml", ".yml", ".yaml")) or path == ".ci/run":
            if path.startswith("tests/test_docs_match_code"):
                continue
            used |= set(ENV.findall((ROOT / path).read_text(encoding="utf-8", errors="replace")))
    documented = _documented_variables()
    assert "FACECOURSE_ROOT" in used and "FACECOURSE_CACHE_DIR" in used  # the scan itself works
    assert sorted(used - documented) == [], "add these to the table in CONTRIBUTING.md"
    assert sorted(documented - used) == [], "the table in CONTRIBUTING.md lists variables nothing reads"


def test_pyproject_names_files_that_exist() -> None:
    tomllib = pytest.importorskip("tomllib", reason="Python 3.10 has no TOML reader in the standard library")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"package-data {package}/{pattern} matches no file"
    for mentioned in re.findall(r"\b((?:tests|docs|tools)/[\w./-]+\.(?:md|py|cfg|txt))", text):
        assert (ROOT / mentioned).exists(), f"pyproject.toml refers to {mentioned}, which does not exist"
