"""Helpers for the exercises' autograder tests: measure the student's own work.

Two things a test of "write this function" must rule out, besides wrong answers:

* **delegation** - the course's own reference function does the job (``return
  metrics.threshold_for_fmr(nonmated, target)``) and passes every test. :class:`forbid` switches
  the named reference functions off while the student's code runs: any call raises
  :class:`DelegationError` with a message that says what to do instead.
* **loops where the exercise asks for whole-array numpy** - :func:`assert_no_loops` reads the
  student's function (its source, parsed with :mod:`ast`) and fails with the line of the first
  ``for``/``while`` statement or comprehension, and a hint.

Both raise ``AssertionError`` subclasses, so nbgrader counts them as a failed test.

>>> from facecourse import grading, metrics
>>> def lazy(nonmated, target):
...     return metrics.threshold_for_fmr(nonmated, target)
>>> with grading.forbid("facecourse.metrics.threshold_for_fmr", task="find the threshold"):
...     lazy([0.3, 0.5], 0.5)
Traceback (most recent call last):
...
facecourse.grading.DelegationError: This question asks you to find the threshold yourself;
calling facecourse.metrics.threshold_for_fmr is not allowed here.
>>> metrics.threshold_for_fmr([0.3, 0.5], 0.5)  # restored afterwards
0.3
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DelegationError", "LoopError", "Loop", "forbid", "find_loops", "assert_no_loops"]


class DelegationError(AssertionError):
    """The student's code called a reference function the question asks them to write."""


class LoopError(AssertionError):
    """The student's function uses a Python loop where the question asks for whole-array numpy."""


def _resolve(dotted: str) -> tuple[Any, str, Any]:
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        raise ValueError(f"name a function with its module, e.g. 'facecourse.metrics.error_rates_at', not {dotted!r}")
    module = importlib.import_module(module_name)
    try:
        return module, attr, getattr(module, attr)
    except AttributeError:
        raise ValueError(f"{module_name} has no attribute {attr!r}: check the name given to forbid()") from None


class forbid:
    """Context manager: while it is active, calling any of ``names`` raises :class:`DelegationError`.

    ``names`` are dotted paths (``"facecourse.metrics.error_rates_at"``). The function is replaced
    in its module, in every loaded module of the same package that re-exports it (so
    ``face_recognition.face_distance`` and ``face_recognition.api.face_distance`` both), and in the
    calling namespace (a notebook's globals: ``from facecourse.metrics import error_rates_at`` is
    caught too). Everything is restored on exit, even after an error. ``task`` completes the
    sentence "This question asks you to ... yourself".
    """

    def __init__(self, *names: str, task: str = "compute this", namespace: dict[str, Any] | None = None) -> None:
        if not names:
            raise ValueError("name at least one function to forbid")
        self.names = names
        self.task = task
        self.namespace = namespace if namespace is not None else sys._getframe(1).f_globals
        self._undo: list[tuple[Any, str, Any]] = []

    def _blocker(self, dotted: str, original: Any) -> Callable[..., Any]:
        message = (f"This question asks you to {self.task} yourself; calling {dotted} is not allowed here.")

        def blocked(*args: Any, **kwargs: Any) -> Any:
            raise DelegationError(message)

        blocked.__name__ = getattr(original, "__name__", dotted)
        blocked.__doc__ = message
        return blocked

    def __enter__(self) -> forbid:
        try:
            for dotted in self.names:
                module, _attr, original = _resolve(dotted)
                blocked = self._blocker(dotted, original)
                package = module.__name__.split(".")[0]
                holders = [m for name, m in list(sys.modules.items())
                           if m is not None and (name == package or name.startswith(package + "."))]
                for holder in holders:
                    for key, value in list(vars(holder).items()):
                        if value is original:
                            self._undo.append((holder, key, value))
                            setattr(holder, key, blocked)
                for key, value in list(self.namespace.items()):
                    if value is original:
                        self._undo.append((self.namespace, key, value))
                        self.namespace[key] = blocked
        except BaseException:
            self._restore()
            raise
        return self

    def _restore(self) -> None:
        for holder, key, value in reversed(self._undo):
            if isinstance(holder, dict):
                holder[key] = value
            else:
                setattr(holder, key, value)
        self._undo.clear()

    def __exit__(self, *exc: Any) -> None:
        self._restore()


@dataclass(frozen=True)
class Loop:
    """One Python loop in a function: its kind, line (1 = the ``def`` line) and nesting depth."""

    kind: str
    line: int
    depth: int


_KINDS = {ast.For: "a for loop", ast.AsyncFor: "an async for loop", ast.While: "a while loop",
          ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
          ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression"}


def _source(func: Callable[..., Any] | str) -> str:
    if isinstance(func, str):
        return textwrap.dedent(func)
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as err:
        raise LoopError(f"Cannot read the source of {getattr(func, '__name__', func)!r} to check it for "
                        f"loops ({err}): define it with `def` in a notebook cell or a file.") from None


def find_loops(func: Callable[..., Any] | str) -> list[Loop]:
    """Every loop in ``func`` (a function or its source), outermost first, with its nesting depth.

    A comprehension counts one level per ``for`` clause: ``[x for row in a for x in row]`` is two.

    >>> def f(a):
    ...     total = 0
    ...     for row in a:
    ...         total += sum(x for x in row)
    ...     return total
    >>> find_loops(f)
    [Loop(kind='a for loop', line=3, depth=1), Loop(kind='a generator expression', line=4, depth=2)]
    >>> find_loops("def g(a):\\n    return (a ** 2).sum()")
    []
    """
    tree = ast.parse(_source(func))
    found: list[Loop] = []

    def visit(node: ast.AST, depth: int) -> None:
        kind = _KINDS.get(type(node))
        if kind is not None and isinstance(node, (ast.stmt, ast.expr)):  # every loop kind is one: has a lineno
            depth += len(node.generators) if hasattr(node, "generators") else 1
            found.append(Loop(kind, node.lineno, depth))
        for child in ast.iter_child_nodes(node):
            visit(child, depth)

    visit(tree, 0)
    return found


def assert_no_loops(func: Callable[..., Any] | str, *, over: str = "the data", max_depth: int = 0,
                    hint: str = "") -> None:
    """Fail with a helpful :class:`LoopError` if ``func`` has loops nested deeper than ``max_depth``.

    ``max_depth=0`` forbids every loop ("vectorised, no Python loop"); ``max_depth=1`` allows a
    single loop (say over a few groups) but not a loop inside a loop, which is what a loop over
    all pairs needs. ``over`` names what must not be looped over, ``hint`` how to avoid it.

    >>> def slow(gallery, probe):
    ...     return [sum((g - probe) ** 2) ** 0.5 for g in gallery]
    >>> assert_no_loops(slow, over="the gallery", hint="use np.linalg.norm(..., axis=1)")
    Traceback (most recent call last):
    ...
    facecourse.grading.LoopError: `slow` uses a Python loop (a list comprehension, line 2 of the function),
    but this question asks for numpy operations on whole arrays, with no Python loop over the gallery.
    Hint: use np.linalg.norm(..., axis=1)
    """
    too_deep = [loop for loop in find_loops(func) if loop.depth > max_depth]
    if not too_deep:
        return
    name = func.__name__ if callable(func) else "your function"
    first = too_deep[0]
    what = "a Python loop" if max_depth == 0 else f"loops nested {first.depth} deep"
    message = (f"`{name}` uses {what} ({first.kind}, line {first.line} of the function), but this question "
               f"asks for numpy operations on whole arrays, with no Python loop over {over}.")
    if hint:
        message += f" Hint: {hint}"
    raise LoopError(message)
