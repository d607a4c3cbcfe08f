"""Downloads through the real urllib against loopback servers: a redirect to plain HTTP is never followed."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
import urllib.request
from contextlib import contextmanager
from typing import ClassVar

import pytest

from fmnist_report import data as data_mod
from fmnist_report.errors import DataError

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    client = ssl.create_default_context(cafile=str(cert))
    return cert, key, client


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers each GET from the class's ``routes``: a (status, headers, body); records each path."""

    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b"no"))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(routes, tls=None):
    handler = type("Handler", (Recorder,), {"routes": routes, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_http_is_refused_before_the_http_request_is_sent(certificate):
    cert, key, client = certificate
    with serving({"/f.gz": (200, {}, b"payload")}) as (plain_port, plain_seen):
        target = f"http://127.0.0.1:{plain_port}/f.gz"
        with serving({"/f.gz": (302, {"Location": target}, b"")}, tls=(cert, key)) as (port, seen):
            url = f"https://127.0.0.1:{port}/f.gz"
            with pytest.raises(DataError) as caught:
                data_mod._download(url, "train", None, data_mod.https_opener(client))
    assert str(caught.value) == f"{url} redirected to {target}, which is not HTTPS; not downloading it"
    assert seen == ["/f.gz"] and plain_seen == []  # the plain-HTTP server was never asked


def test_a_redirect_to_https_is_followed(certificate):
    cert, key, client = certificate
    routes = {"/old.gz": (301, {"Location": "/new.gz"}, b""), "/new.gz": (200, {}, b"the payload")}
    with serving(routes, tls=(cert, key)) as (port, seen):
        blob = data_mod._download(
            f"https://127.0.0.1:{port}/old.gz", "train", None, data_mod.https_opener(client)
        )
    assert blob == b"the payload" and seen == ["/old.gz", "/new.gz"]


def test_plain_urlopen_would_have_sent_the_http_request(certificate):
    """What the handler prevents: urllib's own redirect handling asks the HTTP server first."""
    cert, key, client = certificate
    with serving({"/f.gz": (200, {}, b"payload")}) as (plain_port, plain_seen):
        target = f"http://127.0.0.1:{plain_port}/f.gz"
        with serving({"/f.gz": (302, {"Location": target}, b"")}, tls=(cert, key)) as (port, _):
            opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=client))
            with opener.open(f"https://127.0.0.1:{port}/f.gz", timeout=10) as response:
                assert response.geturl() == target
    assert plain_seen == ["/f.gz"]
