"""``ferrotune dashboard``: serve the live web page of a storage's studies."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from ferrotune.cli._storage import open_storage
from ferrotune.exceptions import CLIUsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="let requests delete a study and mark a RUNNING trial FAIL (default: read-only)",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_free(host: str, port: int) -> None:
    """A usage error (one line, status 1) when the server could not listen on
    ``host:port`` (a port in use, an address not of this machine), before it says it
    serves there."""
    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            s.bind(address)
    except OSError as e:
        raise CLIUsageError(
            f"--host {host} --port {port}: cannot listen there ({e.strerror or e})"
        ) from None


def dashboard(args: argparse.Namespace) -> int:
    from ferrotune import dashboard as web

    if not 0 <= args.port <= 65535:
        raise CLIUsageError(f"--port {args.port}: use a port from 0 to 65535")
    storage = open_storage(args.storage, args.storage_class)
    if not _is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach this address can read "
            "the studies" + (" and change them (--allow-writes)" if args.allow_writes else ""),
            file=sys.stderr,
        )
    _check_free(args.host, args.port)
    mode = "read and write" if args.allow_writes else "read-only"
    print(f"ferrotune dashboard ({mode}) at http://{args.host}:{args.port}/", file=sys.stderr)
    web.run(storage, args.host, args.port, allow_writes=args.allow_writes)
    return 0
