"""JupyterLab in headless Chromium, for the real-browser tests (pytest marker ``browser``).

What the fixtures give a test:

* ``lab``: one JupyterLab server for the whole session, started from this test run's Python
  (``python -m jupyter lab``) on a free loopback port with a random token, serving a *temporary*
  folder. Tests copy the notebooks they open into it (:meth:`JupyterLab.add_notebook`), so
  JupyterLab's autosave can never touch a committed notebook. The server inherits the course's
  environment (``FACECOURSE_IMAGE_MIRROR`` ...), with ``FACECOURSE_IMAGE_DIR`` and
  ``FACECOURSE_CACHE_DIR`` pinned to the course's folders so a lesson copied elsewhere still
  finds the verified images and the cached faceprints. A finalizer kills the server and its
  kernels (the whole process group) even when a test fails.
* ``browser``: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright's sync API, with a
  fresh user-data-dir and the flags this offline machine needs.
* ``lab_page``: a new tab, with helpers to open a notebook, wait for the kernel, run all cells
  through the menu and save screenshots into ``test-artifacts/browser/``. On failure it saves a
  screenshot and JupyterLab's log there too.

Missing Chromium or Playwright is a FAILURE, not a skip: CI must never pass by not looking.
Install both with ``bash tools/install_browser.sh``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI; Chromium's sandbox refuses root
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No internet here: without these Chromium keeps trying (and failing) to phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "Run `bash tools/install_browser.sh` (Debian's chromium + the pinned Playwright driver)."

#: Generous limits: the machine has 2 shared cores.
SERVER_START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterLab:
    """A running JupyterLab server serving a temporary folder (see the module docstring)."""

    def __init__(self, root_dir: Path, state_dir: Path) -> None:
        self.root_dir = root_dir
        self.state_dir = state_dir
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.log_path = state_dir / "jupyterlab.log"
        self.proc: subprocess.Popen[bytes] | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        from facecourse import config

        settings = self.state_dir / "user-settings"
        # JupyterLab's defaults, except two things that make a headless run flaky:
        # the "get Jupyter news?" toast (it covers the notebook) and windowed rendering
        # (cells scrolled out of view are not in the DOM, so their prompts cannot be read).
        _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                    {"fetchNews": "false"})
        _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                    {"windowingMode": "none"})
        env = dict(os.environ)
        env.update({
            "FACECOURSE_IMAGE_DIR": str(config.image_dir()),
            "FACECOURSE_CACHE_DIR": str(config.cache_dir()),
            "FACECOURSE_PROGRESS": "0",
            # Keep the developer's own Jupyter and IPython configuration out of the test.
            "JUPYTER_CONFIG_DIR": str(self.state_dir / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(self.state_dir / "jupyter-runtime"),
            "IPYTHONDIR": str(self.state_dir / "ipython"),
        })
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}", "--ServerApp.ip=127.0.0.1", "--allow-root",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.state_dir / 'workspaces'}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode} before answering.\n"
                            f"{self.log_tail()}")
            try:
                status = self.api("GET", "status")
                if "started" in status:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s.\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        """Kill the server and every kernel it started (they share its process group)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        except ProcessLookupError:
            pass

    # -- helpers ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """A fresh, empty workspace per page: JupyterLab would otherwise reopen the tabs of the
        previous tests, and the status bar and "Run All" could then act on the wrong notebook."""
        import uuid

        workspace = f"test-{uuid.uuid4().hex[:12]}"
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.base_url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so one test's kernel does not eat the next test's CPU."""
        for session in self.api("GET", "sessions") or []:
            self.api("DELETE", f"sessions/{session['id']}")

    def add_notebook(self, source: Path, name: str | None = None) -> str:
        """Copy a notebook into the served folder; return its path relative to it."""
        target = self.root_dir / (name or source.name)
        shutil.copyfile(source, target)
        return target.name

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "--- JupyterLab log (tail) ---\n" + text[-chars:]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sync_playwright() -> Any:
    """Playwright's sync API, or a failure that says how to install it."""
    try:
        from playwright.sync_api import sync_playwright as sp
    except ImportError as err:
        pytest.fail(f"Playwright is not installed in {sys.prefix} ({err}). {INSTALL_HINT}")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"No Chromium at {CHROMIUM}. {INSTALL_HINT}")
    return sp


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, images_ready: Path, sync_playwright: Any) -> Iterator[JupyterLab]:
    # (sync_playwright first: without a browser, fail before starting anything)
    server = JupyterLab(tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-state"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(sync_playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Chromium browser context with a fresh profile, closed at the end of the session."""
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def lab_page(request: pytest.FixtureRequest, lab: JupyterLab, browser: Any) -> Iterator[LabPage]:
    page = browser.new_page()
    helper = LabPage(page, lab, name=re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))
    try:
        yield helper
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):  # a failed screenshot must not hide the real failure
                helper.screenshot("FAILED", full_page=True)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / f"{helper.name}-jupyterlab.log").write_text(lab.log_tail(200_000))
        page.close()
        with contextlib.suppress(Exception):  # the server is killed at the end of the session anyway
            lab.shutdown_kernels()


# ---------------------------------------------------------------------------------------------
# Driving JupyterLab
# ---------------------------------------------------------------------------------------------

_ACTIVE_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: True once the status bar names a kernel (not "No Kernel") that is idle.
_KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .map(e => e.textContent.trim())
    .some(t => /\\|\\s*Idle$/.test(t) && !/^No Kernel/.test(t))"""

#: 'done' when every code cell of the open notebook has run ([n]:) and the kernel is idle;
#: 'error' when Run All stopped at an exception (idle, an error output, cells left unrun);
#: else false. While Run All is going, queued cells show [*]:, so a short idle moment between
#: two cells is never mistaken for the end.
_RUN_STATE_JS = f"""() => {{
  const panel = document.querySelector('{_ACTIVE_PANEL}');
  if (!panel) return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
      .map(e => e.textContent.trim());
  if (!({_KERNEL_IDLE_JS})() || prompts.length === 0 || prompts.some(p => p === '[*]:')) return false;
  if (prompts.every(p => /^\\[\\d+\\]:$/.test(p))) return 'done';
  return panel.querySelector('[data-mime-type="application/vnd.jupyter.error"]') ? 'error' : false;
}}"""


class LabPage:
    """One browser tab on the JupyterLab server, with the few actions a test needs."""

    def __init__(self, page: Any, lab: JupyterLab, name: str) -> None:
        self.page = page
        self.lab = lab
        self.name = name
        self.shots: list[Path] = []

    def open_notebook(self, path: str) -> None:
        self.page.goto(self.lab.url(path))
        self.page.wait_for_selector(f"{_ACTIVE_PANEL} .jp-Notebook .jp-Cell", timeout=PAGE_TIMEOUT_MS)
        self.wait_for_kernel_idle()

    def wait_for_kernel_idle(self, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
        self.page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout_ms)

    def run_all_cells(self, timeout_s: float = 300) -> float:
        """Run → Run All Cells, as an instructor would; wait until every cell ran. Returns seconds."""
        start = time.monotonic()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        handle = self.page.wait_for_function(_RUN_STATE_JS, timeout=timeout_s * 1000, polling=500)
        if handle.json_value() == "error":
            errors = self.page.locator(f"{_ACTIVE_PANEL} [data-mime-type='application/vnd.jupyter.error']")
            self.screenshot("cell-error", full_page=True)
            pytest.fail("A cell raised an exception in JupyterLab:\n" + "\n---\n".join(errors.all_inner_texts()))
        return time.monotonic() - start

    def screenshot(self, step: str, locator: Any = None, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        if locator is not None:
            locator.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)
        return path


# --------------------------------------------------------------------------- shared widget-test steps


def write_notebook(path: Path, title: str, *code: str) -> Path:
    """A small notebook for a widget test: a title cell, then ``code`` cells, python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), *(nbformat.v4.new_code_cell(c) for c in code)]
    nbformat.write(nb, path)
    return path


def widget_box(lab_page: LabPage, panel: str) -> Any:
    """The widget box (controls + panel) holding ``panel`` in the visible notebook, scrolled into view."""
    page = lab_page.page
    box = page.locator(f"{_ACTIVE_PANEL} .widget-vbox", has=page.locator(panel)).first
    box.scroll_into_view_if_needed()
    return box


def drag_handle(lab_page: LabPage, box: Any, dx: float) -> None:
    """Drag the slider's handle by ``dx`` pixels, as a person does with the mouse."""
    handle = box.locator(".noUi-handle")
    b = handle.bounding_box()
    x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    mouse = lab_page.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + dx / 2, y, steps=5)
    mouse.move(x + dx, y, steps=5)
    mouse.up()


def press_handle(box: Any, key: str, times: int) -> None:
    """Press ``key`` on the focused slider handle ``times`` times (the handle is keyboard-accessible)."""
    handle = box.locator(".noUi-handle")
    handle.focus()
    for _ in range(times):
        handle.press(key)
