"""`backchannel serve`: the read-only web UI and JSON API (see web/).

The token comes from BACKCHANNEL_WEB_TOKEN or `web_token` in the configuration file;
it is never printed or logged. Without one, or with one shorter than 16 characters, only
a loopback address may be bound: the archive is not published to a network by accident,
nor behind a token that can be guessed."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import sys

from archive.db import connect, database_url

log = logging.getLogger("backchannel.web")
TOKEN_ENV = "BACKCHANNEL_WEB_TOKEN"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="a read-only web UI and JSON API over the archive")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; others need a token)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.set_defaults(handler=run)


def web_token(settings, environ=os.environ) -> str | None:
    """The environment wins over the configuration file; an empty value means none."""
    token = environ.get(TOKEN_ENV)
    if token is None:
        token = settings.extra.get("web_token")
    token = str(token).strip() if token is not None else ""
    return token or None


def is_loopback(host: str) -> bool:
    """Only `localhost` and loopback literals count; a name could resolve anywhere."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """Bind first, so a busy port is a one-line error rather than a uvicorn traceback.

    The protocol is named (IPPROTO_TCP, not 0): asyncio sets TCP_NODELAY only on
    connections whose socket says TCP, and without it every keep-alive request after the
    first waited about 40 ms for the client's delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(args, settings) -> int:
    import uvicorn

    from web.app import create_app
    from web.guard import token_refusal

    token = web_token(settings)
    refusal = token_refusal(token, is_loopback(args.host))
    if refusal:
        print(f"backchannel serve: refusing to listen on {args.host} {refusal}: set "
              f"{TOKEN_ENV} (or web_token in the configuration file), or use --host 127.0.0.1",
              file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"backchannel serve: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    if settings.web_pool_size < 1:
        print(f"backchannel serve: web_pool_size must be at least 1, not "
              f"{settings.web_pool_size}", file=sys.stderr)
        return 2
    if not settings.web_pool_timeout_seconds > 0:
        print(f"backchannel serve: web_pool_timeout_seconds must be more than 0, not "
              f"{settings.web_pool_timeout_seconds:g}", file=sys.stderr)
        return 2
    url = database_url(settings)
    connect(url).close()  # migrate once, and fail early with a clear message
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(f"backchannel serve: cannot listen on {args.host}:{args.port} (chosen by "
              f"--host and --port; the port defaults to 8080): {exc.strerror}",
              file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"backchannel serve: http://{shown}:{port}/ (API docs at /docs; "
          f"{'token required' if token else 'no token'}); Ctrl-C stops", file=sys.stderr,
          flush=True)
    app = create_app(url, token, settings.web_pool_size, settings.web_pool_timeout_seconds,
                     cache_entries=settings.web_cache_entries)
    config = uvicorn.Config(app, log_config=None, access_log=False,
                            proxy_headers=False, server_header=False, lifespan="on")
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again: turn that
    # into a normal return, so a stop by systemd, Kubernetes or Ctrl-C exits 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    print("backchannel serve: stopped", file=sys.stderr)
    return 0


class Stopped(Exception):
    """SIGTERM after uvicorn's graceful shutdown."""


def _stopped(signum, frame) -> None:
    raise Stopped
