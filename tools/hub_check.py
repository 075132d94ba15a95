#!/usr/bin/env python3
"""Run the course in a real JupyterHub on this machine, as a class would (docs/classroom.md, 4a).

    sudo python3 tools/hub_check.py                       # the CI check: 3 students run lesson 03
    sudo python3 tools/hub_check.py --measure             # also: all students run lesson 01 at once,
                                                          # cold, without and with the class cache
    sudo python3 tools/hub_check.py --cleanup             # remove the test accounts and the hub folder

What it sets up (under --base, default /srv/facecourse-hubcheck), exactly as the classroom guide says:
  * a copy of the course and its own environment (requirements.txt + .ci/hub-requirements.txt:
    JupyterHub, pinned) -- the students' Python, readable by everyone, writable by no student;
  * ONE verified copy of the photos, fetched once from FACECOURSE_IMAGE_MIRROR, read-only for all;
  * ONE class cache of faceprints (``python -m facecourse build-class-cache``), read-only for all,
    when this version of the course has that command;
  * system users fc-student1..N, each with a private home (mode 700) holding their own cache;
  * JupyterHub with its standard proxy (configurable-http-proxy, installed from npm, pinned),
    on 127.0.0.1 only, a dummy password authenticator for the test accounts and the default
    LocalProcessSpawner; its configuration is deploy/jupyterhub/jupyterhub_config.py.

What it checks, through the hub only (the way a browser would reach it):
  1. each student logs in through the hub's login form and starts their server through the hub API;
  2. in each student's own server a kernel runs every code cell of lesson 03 (the Jupyter kernel
     protocol over the proxied websocket, as JupyterLab does), and every text output must equal the
     committed notebook's (cells tagged nbval-ignore-output are skipped, as nbval does);
  3. isolation: each student's faceprints are in their own home; a student cannot read another
     student's home; nobody wrote to the shared photos (or the class cache).
Exit status 0 only if everything holds. Needs root (it creates system users), node/npm, and
FACECOURSE_IMAGE_MIRROR (CI sets it). Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
HUB_REQUIREMENTS = ROOT / ".ci" / "hub-requirements.txt"
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"   # as of 2026-12; JupyterHub's standard proxy
PASSWORD = "hub-check-" + uuid.uuid4().hex[:8]   # a fresh dummy password per run (test accounts only)
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", ".facecourse-cache", "downloaded", "site",
                                     "test-artifacts", "node_modules", "__pycache__", "*.egg-info",
                                     ".ipynb_checkpoints", "preview-private", "_build", "my_images")


def say(msg: str) -> None:
    print(f"[hub_check] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------------------------
# Set-up: the instructor's part
# ---------------------------------------------------------------------------------------------
def digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def setup_course(base: Path) -> Path:
    """Copy the course and build the students' environment; return its bin/ folder."""
    course = base / "course"
    if course.exists():
        shutil.rmtree(course)
    shutil.copytree(ROOT, course, ignore=COPY_IGNORE)
    (course / "my_images").mkdir(exist_ok=True)
    venv = base / "venv"
    stamp = venv / ".requirements-digest"
    wanted = digest(ROOT / "requirements.txt", HUB_REQUIREMENTS)
    if not (stamp.exists() and stamp.read_text() == wanted):
        if venv.exists():
            shutil.rmtree(venv)
        say("building the students' environment (requirements.txt + JupyterHub) ...")
        # The students' servers run as the students: their Python must be readable by every user
        # (a Python under /root, e.g. pyenv's, is not). The system's Python is, as on a class server.
        python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or "python3"
        if subprocess.run([python, "-c", "import ensurepip"], capture_output=True).returncode:
            run(["apt-get", "install", "-y", "-qq", "python3-venv"])
        run([python, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        run(pip + ["-r", "requirements.txt"], cwd=course)      # pip must run from the course root
        run(pip + ["-r", str(HUB_REQUIREMENTS)], cwd=course)
        stamp.write_text(wanted)
    else:  # the editable install points at base/course, which was just refreshed
        say("students' environment up to date")
    return venv / "bin"


def setup_proxy(base: Path) -> Path:
    node = base / "node"
    chp = node / "node_modules" / ".bin" / "configurable-http-proxy"
    if not chp.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)")
        say(f"installing {PROXY_PACKAGE} from npm ...")
        run(["npm", "install", "--silent", "--no-fund", "--no-audit", "--prefix", str(node), PROXY_PACKAGE])
    return chp.parent


def course_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECOURSE_")}
    env.update(FACECOURSE_PROGRESS="0", PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}")
    if os.environ.get("FACECOURSE_IMAGE_MIRROR"):
        env["FACECOURSE_IMAGE_MIRROR"] = os.environ["FACECOURSE_IMAGE_MIRROR"]
    env.update(extra)
    return env


def read_only(path: Path) -> None:
    run(["chown", "-R", "root:root", str(path)])
    run(["chmod", "-R", "a=rX,u+w", str(path)])     # only root (the instructor) may change it


def setup_images(base: Path, bin_dir: Path) -> Path:
    images = base / "images"
    images.mkdir(exist_ok=True)
    run([str(bin_dir / "python"), "-m", "facecourse", "fetch"],
        env=course_env(bin_dir, FACECOURSE_IMAGE_DIR=str(images), FACECOURSE_CACHE_DIR=str(base / "tmp-cache")),
        cwd=base / "course", stdout=subprocess.DEVNULL)
    read_only(images)
    return images


def has_class_cache_command(bin_dir: Path, base: Path) -> bool:
    out = subprocess.run([str(bin_dir / "python"), "-m", "facecourse", "--help"], capture_output=True,
                         text=True, cwd=base / "course").stdout
    return "build-class-cache" in out


def setup_class_cache(base: Path, bin_dir: Path, images: Path) -> Path | None:
    if not has_class_cache_command(bin_dir, base):
        say("this version of the course has no build-class-cache command: running without a class cache")
        return None
    cache = base / "class-cache"
    say("building the class cache (once, for every student) ...")
    start = time.monotonic()
    # The instructor has run the lessons once (CI's test run did): their cache seeds the class cache,
    # so only what it lacks is computed. The build hashes and indexes every file either way.
    seed = ROOT / ".facecourse-cache"
    seeds = ["--seed", str(seed)] if seed.is_dir() else []
    run([str(bin_dir / "python"), "-m", "facecourse", "build-class-cache", str(cache), *seeds],
        env=course_env(bin_dir, FACECOURSE_IMAGE_DIR=str(images), FACECOURSE_CACHE_DIR=str(base / "tmp-cache")),
        cwd=base / "course")
    say(f"class cache built in {time.monotonic() - start:.0f} s")
    read_only(cache)
    return cache


def setup_students(base: Path, n: int) -> list[str]:
    names = []
    homes = base / "homes"
    homes.mkdir(exist_ok=True)
    os.chmod(homes, 0o755)
    for i in range(1, n + 1):
        name = f"fc-student{i}"
        try:
            pwd.getpwnam(name)
        except KeyError:
            run(["useradd", "--create-home", "--home-dir", str(homes / name), "--shell", "/bin/bash", name])
        home = Path(pwd.getpwnam(name).pw_dir)
        if not home.exists():                          # an account left by an earlier run whose folder was removed
            home.mkdir(parents=True)
            shutil.chown(home, name, pwd.getpwnam(name).pw_gid)
        os.chmod(home, 0o700)                          # no student reads another's cache or photos
        names.append(name)
    return names


def fresh_caches(names: list[str]) -> None:
    """Empty every student's own cache: the next run is a student's first, cold run."""
    for name in names:
        cache = Path(pwd.getpwnam(name).pw_dir) / ".facecourse-cache"
        if cache.exists():
            shutil.rmtree(cache)


# ---------------------------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------------------------
class Hub:
    def __init__(self, base: Path, bin_dir: Path, proxy_bin: Path, images: Path, class_cache: Path | None,
                 names: list[str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        state = base / "state"
        state.mkdir(exist_ok=True)
        env = course_env(bin_dir, FCHUB_STATE=str(state), FCHUB_PYTHON_BIN=str(bin_dir),
                         FCHUB_IMAGE_DIR=str(images), FCHUB_USERS=",".join(names),
                         FCHUB_TEST_PASSWORD=PASSWORD, FCHUB_PORT=str(port))
        env["PATH"] = f"{proxy_bin}:{env['PATH']}"
        if class_cache is not None:
            env["FCHUB_CLASS_CACHE"] = str(class_cache)
        self.log = open(base / "hub.log", "ab")  # noqa: SIM115 - open while the hub runs; stop() closes it
        self.proc = subprocess.Popen([str(bin_dir / "jupyterhub"), "-f", str(HUB_CONFIG)], cwd=state, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_up(base)

    def _wait_up(self, base: Path) -> None:
        import requests

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"JupyterHub exited ({self.proc.returncode}); see {base / 'hub.log'}")
            try:
                if requests.get(self.url + "/hub/api", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"JupyterHub did not answer within 90 s; see {base / 'hub.log'}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class Student:
    """One student's browser session: log in, start the server, run notebooks in a kernel."""

    def __init__(self, hub: Hub, name: str) -> None:
        import requests

        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.token = ""
        self.rss_mib = 0.0
        self.server_mib = 0.0

    def _xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf") or ""}

    def login_and_start(self) -> float:
        start = time.monotonic()
        page = self.http.get(self.hub.url + "/hub/login", timeout=30)
        page.raise_for_status()
        form = {"username": self.name, "password": PASSWORD, "_xsrf": self.http.cookies.get("_xsrf", "")}
        r = self.http.post(self.hub.url + "/hub/login", data=form, timeout=30, allow_redirects=False)
        if r.status_code != 302:
            raise AssertionError(f"{self.name}: login refused (HTTP {r.status_code})")
        api = self.hub.url + f"/hub/api/users/{self.name}"
        r = self.http.post(api + "/server", headers=self._xsrf(), timeout=60)
        if r.status_code not in (201, 202, 400):   # 400: already running
            raise AssertionError(f"{self.name}: server did not start (HTTP {r.status_code}: {r.text[:200]})")
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            info = self.http.get(api, headers=self._xsrf(), timeout=30).json()
            server = info.get("servers", {}).get("", {})
            if server.get("ready"):
                break
            time.sleep(1)
        else:
            raise AssertionError(f"{self.name}: server not ready after 150 s")
        self.server_mib = user_rss_mib(self.name)   # the student's Jupyter server alone, no kernel yet
        r = self.http.post(api + "/tokens", headers=self._xsrf(), json={"note": "hub_check", "expires_in": 3600},
                           timeout=30)
        r.raise_for_status()
        self.token = r.json()["token"]
        return time.monotonic() - start

    def _server(self, path: str) -> str:
        return f"{self.hub.url}/user/{self.name}/{path}"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def upload(self, notebook: Path) -> str:
        body = {"type": "notebook", "format": "json", "content": json.loads(notebook.read_text())}
        r = self.http.put(self._server(f"api/contents/{notebook.name}"), json=body, headers=self._auth(), timeout=60)
        r.raise_for_status()
        return notebook.name

    def run_notebook(self, notebook: Path, timeout: float = 1800) -> tuple[list[list[str]], float]:
        """Run every code cell in a new kernel of this student's server; return text outputs per cell."""
        import websocket

        name = self.upload(notebook)
        r = self.http.post(self._server("api/sessions"), headers=self._auth(), timeout=60,
                           json={"path": name, "type": "notebook", "name": name, "kernel": {"name": "python3"}})
        r.raise_for_status()
        kernel = r.json()["kernel"]["id"]
        ws_url = self._server(f"api/kernels/{kernel}/channels").replace("http://", "ws://")
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        session = uuid.uuid4().hex
        cells = json.loads(notebook.read_text())["cells"]
        outputs: list[list[str]] = []
        start = time.monotonic()
        try:
            for cell in cells:
                if cell["cell_type"] != "code":
                    continue
                outputs.append(self._execute(ws, session, "".join(cell["source"]), timeout))
        finally:
            ws.close()
            self.rss_mib = user_rss_mib(self.name)   # the student's server + this kernel, before it stops
            self.http.delete(self._server(f"api/kernels/{kernel}"), headers=self._auth(), timeout=30)
        return outputs, time.monotonic() - start

    def _execute(self, ws, session: str, code: str, timeout: float) -> list[str]:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                       "session": session, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        texts: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data") and "text/plain" in content.get("data", {}):
                texts.append(content["data"]["text/plain"])
            elif kind == "error":
                raise AssertionError(f"{self.name}: cell failed: {content['ename']}: {content['evalue']}\n{code[:300]}")
            elif kind == "status" and content.get("execution_state") == "idle":
                return texts
        raise AssertionError(f"{self.name}: cell did not finish within {timeout:.0f} s:\n{code[:300]}")

    def stop_server(self) -> None:
        self.http.delete(self.hub.url + f"/hub/api/users/{self.name}/server", headers=self._xsrf(), timeout=60)


# ---------------------------------------------------------------------------------------------
# Comparing outputs as nbval does
# ---------------------------------------------------------------------------------------------
def sanitizers() -> list[tuple[re.Pattern, str]]:
    pairs, text = [], (ROOT / "tests" / "nbval_sanitize.cfg").read_text()
    for regex, replace in re.findall(r"^regex:\s*(.+)\nreplace:\s*(.*)$", text, re.M):
        pairs.append((re.compile(regex), replace))
    return pairs


def expected_outputs(notebook: Path) -> list[list[str] | None]:
    """Committed text outputs per code cell; None where nbval would not compare."""
    result: list[list[str] | None] = []
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if "nbval-ignore-output" in tags or source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT") \
                or "nbval-skip" in tags:
            result.append(None)
            continue
        texts = []
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                texts.append("".join(out["text"]))
            elif "text/plain" in out.get("data", {}):
                texts.append("".join(out["data"]["text/plain"]))
        result.append(texts)
    return result


def normalise(texts: list[str], subs: list[tuple[re.Pattern, str]]) -> str:
    joined = "".join(texts)
    for regex, replace in subs:
        joined = regex.sub(replace, joined)
    return joined.strip()


def compare(name: str, notebook: Path, got: list[list[str]]) -> list[str]:
    subs, problems = sanitizers(), []
    for i, (want, have) in enumerate(zip(expected_outputs(notebook), got, strict=True)):
        if want is not None and normalise(want, subs) != normalise(have, subs):
            problems.append(f"{name}: code cell {i} differs from the committed output:\n"
                            f"  committed: {normalise(want, subs)[:300]!r}\n  hub:       "
                            f"{normalise(have, subs)[:300]!r}")
    return problems


# ---------------------------------------------------------------------------------------------
def snapshot(folder: Path | None) -> dict[str, float]:
    if folder is None:
        return {}
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")}


def user_rss_mib(user: str) -> float:
    """Resident memory of every process a student runs (their Jupyter server and kernels), in MiB."""
    import psutil

    total = 0
    for proc in psutil.process_iter(["username", "memory_info"]):
        if proc.info["username"] == user and proc.info["memory_info"] is not None:
            total += proc.info["memory_info"].rss
    return total / 2**20


def all_at_once(students: list[Student], notebook: Path) -> list[tuple[str, float]]:
    with futures.ThreadPoolExecutor(len(students)) as pool:
        jobs = {pool.submit(s.run_notebook, notebook): s for s in students}
        return [(jobs[j].name, j.result()[1]) for j in futures.as_completed(jobs)]


def check(args: argparse.Namespace) -> int:
    base = args.base
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    bin_dir = setup_course(base)
    proxy_bin = setup_proxy(base)
    images = setup_images(base, bin_dir)
    class_cache = None if args.no_class_cache else setup_class_cache(base, bin_dir, images)
    names = setup_students(base, args.students)
    fresh_caches(names)
    lesson = ROOT / args.lesson
    before_images, before_cache = snapshot(images), snapshot(class_cache)
    problems: list[str] = []
    load = os.getloadavg()[0]
    say(f"starting JupyterHub on 127.0.0.1:{args.port} for {len(names)} students "
        f"({'with' if class_cache else 'without'} the class cache; load average {load:.1f}) ...")
    hub = Hub(base, bin_dir, proxy_bin, images, class_cache, names, args.port)
    running: Hub | None = hub  # stopped at the end, unless measure() takes it over
    try:
        students = [Student(hub, n) for n in names]
        with futures.ThreadPoolExecutor(len(students)) as pool:
            started = list(pool.map(lambda s: s.login_and_start(), students))
        say("logged in and started through the hub: " + ", ".join(
            f"{s.name} {t:.1f} s (server {s.server_mib:.0f} MiB)" for s, t in zip(students, started, strict=True)))
        # every student runs the lesson in their own server, all at the same time
        with futures.ThreadPoolExecutor(len(students)) as pool:
            runs = list(pool.map(lambda s: s.run_notebook(lesson), students))
        for s, (outputs, seconds) in zip(students, runs, strict=True):
            found = compare(s.name, lesson, outputs)
            problems += found
            say(f"{s.name}: {lesson.name} ran in {seconds:.1f} s ({s.rss_mib:.0f} MiB held by the student's "
                f"server and kernel at the end); "
                f"{'outputs match the committed notebook' if not found else f'{len(found)} cell(s) differ'}")
        # isolation
        for s in students:
            own = Path(pwd.getpwnam(s.name).pw_dir) / ".facecourse-cache"
            if not any(own.rglob("*.npz")) and class_cache is None:
                problems.append(f"{s.name}: no faceprints in their own cache {own}")
        if len(students) > 1:
            a, b = students[0], students[1]
            home_a = str(Path(pwd.getpwnam(a.name).pw_dir))
            probe_nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                   "source": f"import os\ntry:\n    os.listdir({home_a!r})\n    print('READABLE')\n"
                                             "except PermissionError:\n    print('DENIED')"}],
                        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            tmp = base / "probe.ipynb"
            tmp.write_text(json.dumps(probe_nb))
            out, _ = b.run_notebook(tmp, timeout=120)
            verdict = "".join(out[0]).strip()
            say(f"{b.name} reading {a.name}'s home: {verdict}")
            if verdict != "DENIED":
                problems.append(f"{b.name} can read {a.name}'s home")
        if snapshot(images) != before_images:
            problems.append("the shared photo folder changed while students worked")
        if class_cache is not None and snapshot(class_cache) != before_cache:
            problems.append("the class cache changed while students worked")
        if args.measure:
            measure(args, base, bin_dir, proxy_bin, images, class_cache, names, hub, students)
            running = None
        else:
            for s in students:
                s.stop_server()
    finally:
        if running is not None:
            running.stop()
    for p in problems:
        say("PROBLEM: " + p)
    say("hub check " + ("FAILED" if problems else "passed"))
    return 1 if problems else 0


def measure(args, base, bin_dir, proxy_bin, images, class_cache, names, hub, students) -> None:
    """All students run lesson 01 at the same moment, cold: without, then with, the class cache."""
    lesson = ROOT / "lessons" / "01_finding_faces.ipynb"
    rows = []
    for label, cache in (("without class cache", None), ("with class cache", class_cache)):
        if label.startswith("with ") and cache is None:
            continue
        for s in students:
            s.stop_server()
        hub.stop()
        fresh_caches(names)
        hub = Hub(base, bin_dir, proxy_bin, images, cache, names, args.port)
        students = [Student(hub, n) for n in names]
        for s in students:
            s.login_and_start()
        load = os.getloadavg()[0]
        start = time.monotonic()
        times = all_at_once(students, lesson)
        wall = time.monotonic() - start
        rows.append((label, len(students), wall, max(t for _, t in times), load))
        say(f"{label}: {len(students)} students ran {lesson.name} at once, cold: last finished after {wall:.0f} s")
    for s in students:
        s.stop_server()
    hub.stop()
    out = ROOT / "benchmarks" / "results" / "hub.csv"
    with out.open("w") as fh:
        fh.write("run,students,lesson,wall_seconds,load_before,server_mib,when\n")
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        server = max(s.server_mib for s in students)
        for label, n, wall, _slowest, load in rows:
            fh.write(f"{label},{n},01_finding_faces,{wall:.0f},{load:.1f},{server:.0f},{when}\n")
    say(f"wrote {out.relative_to(ROOT)}")
    print("\n| lesson 01, all students at once, cold | students | wall time (s) | load average before |")
    print("|---|---|---|---|")
    for label, n, wall, _slowest, load in rows:
        print(f"| {label} | {n} | {wall:.0f} | {load:.1f} |")


def cleanup(base: Path) -> int:
    for i in range(1, 21):
        name = f"fc-student{i}"
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-u", name], check=False)
        subprocess.run(["userdel", name], check=False)
    if base.exists():
        shutil.rmtree(base)
    say(f"removed the test accounts and {base}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=Path("/srv/facecourse-hubcheck"))
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--lesson", default="lessons/03_verification.ipynb")
    parser.add_argument("--port", type=int, default=18000)
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--no-class-cache", action="store_true")
    parser.add_argument("--cleanup", action="store_true")
    args = parser.parse_args()
    if args.cleanup:
        return cleanup(args.base)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the check creates system users, one per student, as a hub has")
    if not os.environ.get("FACECOURSE_IMAGE_MIRROR"):
        raise SystemExit("set FACECOURSE_IMAGE_MIRROR to a folder with the images (the instructor's one download)")
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
