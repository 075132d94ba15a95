"""The course runs without the network once the images are present."""

from __future__ import annotations

import socket
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT


def test_this_process_cannot_reach_the_internet() -> None:
    with socket.socket() as s, pytest.raises(OSError, match="blocked"):
        s.connect(("93.184.216.34", 80))


def test_child_processes_and_kernels_get_the_guard() -> None:
    code = "import socket; s = socket.socket(); s.connect(('1.1.1.1', 53))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "blocked" in result.stderr


def test_a_notebook_kernel_is_offline_too() -> None:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import socket\ntry:\n    socket.create_connection(('8.8.8.8', 53), timeout=2)\n    print('online')\n"
        "except OSError as err:\n    print('offline:', 'blocked' in str(err))")])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "offline: True"


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
