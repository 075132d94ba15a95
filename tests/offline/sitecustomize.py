"""Network guard for the test run: only loopback and local sockets may connect.

tests/conftest.py puts this folder on PYTHONPATH, so every Python process the tests start
(including each notebook's kernel under nbval) imports it at start-up. A lesson that tried to
reach the internet at run time would fail with the message below: the course's promise is
that nothing but the documented image download ever uses the network.
"""

import ipaddress
import os
import socket
from typing import Any

if os.environ.get("FACECOURSE_OFFLINE_GUARD") == "1":
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex

    def _allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets and the like are local
        host = address[0] if isinstance(address, tuple) else address
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return host == "localhost"

    def _refuse(address: object) -> OSError:
        return OSError(f"Network access to {address!r} blocked: the course must run without the network "
                       "(only the documented image download may use it, and the tests use a local mirror).")

    # Unannotated on purpose: they replace socket.socket's own methods, whose signatures typeshed gives.
    def connect(self, address):
        if not _allowed(self, address):
            raise _refuse(address)
        return _connect(self, address)

    def connect_ex(self, address):
        if not _allowed(self, address):
            raise _refuse(address)
        return _connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
