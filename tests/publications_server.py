"""A real HTTP server on 127.0.0.1 (random free port) serving fixture files with chosen status codes,
headers, delays, redirects, ETags and cut transfers, for the harvest and producer tests."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    location: str | None = None
    by_query: object = None  # function(query dict) -> bytes
    cut_after: int | None = None  # announce the whole body, send this many bytes, close (a cut transfer)
    drip: float = 0.0  # seconds between bytes of the body (a server that never finishes)
    encoding: str | None = None  # Content-Encoding header sent with the body as given (gzip bombs)


@dataclass
class FixtureServer:
    routes: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)  # (path, query, headers, status)
    port: int = 0

    def add(self, path: str, **route) -> str:
        self.routes[path] = Route(**route)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def served(self, path: str, status: int | None = None) -> int:
        return sum(1 for p, _, _, s in self.requests if p == path and (status is None or s == status))


def make_handler(server: FixtureServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            route = server.routes.get(parsed.path)
            if route is None:
                return self.reply(parsed.path, query, 404, b"introuvable", "text/plain")
            if route.delay:
                time.sleep(route.delay)
            if route.location:
                self.record(parsed.path, query, route.status)
                self.send_response(route.status)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.record(parsed.path, query, 304)
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.end_headers()
                return
            body = route.by_query(query) if route.by_query else route.body
            extra = {}
            if route.etag:
                extra["ETag"] = route.etag
            if route.last_modified:
                extra["Last-Modified"] = route.last_modified
            if route.encoding:
                extra["Content-Encoding"] = route.encoding
            self.reply(parsed.path, query, route.status, body, route.content_type, extra, route.cut_after, route.drip)

        def record(self, path, query, status):
            server.requests.append((path, query, dict(self.headers), status))

        def reply(self, path, query, status, body, content_type, extra=None, cut_after=None, drip=0.0):
            self.record(path, query, status)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                if drip:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(drip)
                else:
                    self.wfile.write(body if cut_after is None else body[:cut_after])
                if cut_after is not None:
                    self.wfile.flush()
                    self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def start() -> tuple[FixtureServer, ThreadingHTTPServer]:
    state = FixtureServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return state, httpd
