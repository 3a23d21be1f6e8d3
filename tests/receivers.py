"""Real receivers on loopback for the alert channels: an SMTP server (aiosmtpd) and an
HTTP server standing in for Slack and a JSON webhook. Each can be told to fail in the
ways real ones do, and records what it accepted and when."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP ----------------------------------------------------------------------------

@dataclass
class Mail:
    message: EmailMessage
    envelope_to: list[str]
    at: float  # time.time() when accepted

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA (trust it with SSL_CERT_FILE)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backchannel test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1. `replies` are answered to DATA in order ('hang' holds the
    connection until released); once used up, every message is accepted. With `tls`
    ("starttls" or "implicit") and a certificate, it speaks TLS."""

    def __init__(self, username: str | None = None, password: str | None = None,
                 tls: str | None = None, certificate: tuple[Path, Path] | None = None,
                 ) -> None:
        self.mails: list[Mail] = []
        self.replies: list[str] = []
        self.attempts = 0
        self.credentials = (username, password) if username else None
        self._release = threading.Event()
        self.port = free_port()
        options = {}
        if self.credentials:
            options = {"authenticator": self._authenticate, "auth_require_tls": False,
                       "auth_required": True}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            if tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def url(self, scheme: str = "smtp") -> str:
        if self.credentials:
            user, password = self.credentials
            return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.attempts += 1
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply == "hang":
            while not self._release.is_set():
                await asyncio.sleep(0.05)
            return "451 released"
        if reply.startswith("250"):
            message = email.message_from_bytes(envelope.original_content,
                                               policy=email.policy.default)
            self.mails.append(Mail(message, list(envelope.rcpt_tos), time.time()))
        return reply

    def close(self) -> None:
        self._release.set()
        self.controller.stop()


# --- HTTP (Slack and webhook) ---------------------------------------------------------

@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict
    at: float


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to hold the request, then close without an answer


class HttpReceiver:
    """One loopback server; `script[path]` lists the replies to give in order, then 200.
    Only posts answered 2xx are `accepted`."""

    def __init__(self) -> None:
        self.posts: list[Post] = []  # every request received
        self.accepted: list[Post] = []
        self.script: dict[str, list[Reply]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                post = Post(self.path, {k.lower(): v for k, v in self.headers.items()},
                            json.loads(raw or b"{}"), time.time())
                with receiver.lock:
                    receiver.posts.append(post)
                    queue = receiver.script.get(self.path) or []
                    reply = queue.pop(0) if queue else Reply()
                if reply.hang:
                    time.sleep(reply.hang)
                    self.close_connection = True
                    return
                if 200 <= reply.status < 300:  # recorded before the client hears "ok"
                    with receiver.lock:
                        receiver.accepted.append(post)
                payload = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def accepted_at(self, path: str) -> list[Post]:
        with self.lock:
            return [post for post in self.accepted if post.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
