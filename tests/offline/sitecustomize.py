"""Refuse outbound network connections in this process and every Python process it starts.

The test suite puts this folder first on PYTHONPATH (tests/conftest.py), so Python imports it at
start-up in pytest, its xdist workers, nbval's notebook kernels and any subprocess. Connections to
loopback addresses (JupyterLab, kernels, the browser test) and Unix sockets pass; any other
``connect``/``connect_ex``/``sendto`` raises ``ConnectionRefusedError`` and is appended to the
file named by ``LSMKIT_NETWORK_LOG``, which the session checks at the end, so even an attempt
that some library catches and hides is found.
"""

import ipaddress
import os
import socket
import traceback

_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto


def _loopback(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = str(address[0])
    if host in ("localhost", "", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:  # any other host name is refused unresolved (resolving it would be a DNS query)
        return False


def _refuse(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
        log = os.environ.get("LSMKIT_NETWORK_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"pid {os.getpid()} tried {address!r}\n{''.join(traceback.format_stack(limit=12))}\n")
        raise ConnectionRefusedError(f"outbound network refused by lsmkit's offline test guard: {address!r}")


def connect(self, address):
    _refuse(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _refuse(self, address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _refuse(self, args[-1])
    return _sendto(self, data, *args)


socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
