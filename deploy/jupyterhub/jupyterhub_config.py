"""A JupyterHub for one server, as `docs/classroom.md` (path 4a) prescribes; also what CI runs.

Every student is a system user with their own home; JupyterHub's default LocalProcessSpawner
starts each student's JupyterLab as that user. All students share ONE read-only copy of the
verified photos and (optionally) ONE read-only class cache of faceprints; each student's own
cache and own photos live in their home, where no other student can read them.

`tools/hub_check.py` runs this file for real in CI (loopback only, a dummy password for the test
accounts). For a real class, keep the `Spawner.environment` block as it is and replace the
authenticator (your institution's single sign-on, or TLJH's default) and the ports.

Values come from environment variables so that the same file serves the test and a real hub:

| variable | meaning |
|---|---|
| FCHUB_STATE | folder for the hub's database and cookie secret (default: ./hub-state) |
| FCHUB_PYTHON_BIN | the `bin/` folder of the environment with the course installed |
| FCHUB_IMAGE_DIR | the shared, read-only, verified photos |
| FCHUB_CLASS_CACHE | the shared, read-only class cache (optional) |
| FCHUB_USERS | comma-separated student accounts (system users that already exist) |
| FCHUB_TEST_PASSWORD | test only: the dummy authenticator's password (never on a real hub) |
| FCHUB_PORT | the public port of the proxy on 127.0.0.1 (default 8000) |
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

state = Path(os.environ.get("FCHUB_STATE", "hub-state")).resolve()
state.mkdir(parents=True, exist_ok=True)
python_bin = os.environ["FCHUB_PYTHON_BIN"]
port = int(os.environ.get("FCHUB_PORT", "8000"))

# --- network: loopback only --------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port + 81
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 1}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# --- who may log in ------------------------------------------------------------------------
users = {u for u in os.environ.get("FCHUB_USERS", "").split(",") if u}
password = os.environ.get("FCHUB_TEST_PASSWORD")
if password:  # the CI test's accounts; a real hub uses its institution's authenticator
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = password
c.Authenticator.allowed_users = users

# --- each student's server: the course's environment, the course's folders ----------------
c.JupyterHub.spawner_class = "localprocess"          # one system user per student (as TLJH)
c.Spawner.cmd = [f"{python_bin}/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
environment = {
    "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
    # the shared, verified, read-only photos (downloaded once by the instructor)
    "FACECOURSE_IMAGE_DIR": os.environ["FCHUB_IMAGE_DIR"],
    # each student's own cache and own photos, in their own home (the course expands "~")
    "FACECOURSE_CACHE_DIR": "~/.facecourse-cache",
    "FACECOURSE_MY_IMAGES": "~/my_images",
    # students never download: only the instructor, once
    "FACECOURSE_IMAGE_MIRROR": "",
}
if os.environ.get("FCHUB_CLASS_CACHE"):
    environment["FACECOURSE_CLASS_CACHE"] = os.environ["FCHUB_CLASS_CACHE"]
c.Spawner.environment = environment
