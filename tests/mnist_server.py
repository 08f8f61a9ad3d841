"""A loopback HTTP server for download tests that serves files and misbehaves on demand.

    with MnistServer({"a.gz": b"..."}, behaviour="cut") as server:
        download_mnist(mirrors=[server.url], ...)

Behaviours: "ok" serves the files; "403", "404", "500" answer with that status; "hang" accepts
the request and never answers; "cut" promises the full length, sends half and closes;
"wrong" serves other bytes (a valid gzip of different content) so checksums fail; "trickle"
promises the full length and sends one byte every TRICKLE_GAP_S (each read is answered in time,
the file never arrives).
It listens on 127.0.0.1 only, on a free port, in a background thread.
"""
import gzip
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEHAVIOURS = ("ok", "403", "404", "500", "hang", "cut", "wrong", "trickle")
TRICKLE_GAP_S = 0.05
HANG_LIMIT_S = 10  # a hanging handler gives up after this, or as soon as the server stops


class MnistServer:
    def __init__(self, files: dict, behaviour: str = "ok"):
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.files = files
        self.behaviour = behaviour
        self.requests = []  # paths asked for, in order
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/mnist/"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                server._answer(self)

            def log_message(self, *args):  # keep test output clean
                pass

        return Handler

    def _answer(self, handler) -> None:
        name = handler.path.rsplit("/", 1)[-1]
        if self.behaviour == "hang":
            self._stopping.wait(HANG_LIMIT_S)
            return
        if self.behaviour in ("403", "404", "500"):
            handler.send_error(int(self.behaviour))
            return
        if name not in self.files:
            handler.send_error(404)
            return
        body = self.files[name]
        if self.behaviour == "wrong":
            body = gzip.compress(b"not the MNIST you are looking for " + name.encode(), mtime=0)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if self.behaviour == "trickle":
            for byte in body[:int(HANG_LIMIT_S / TRICKLE_GAP_S)]:
                if self._stopping.wait(TRICKLE_GAP_S):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            return
        if self.behaviour == "cut":
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(body)


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"
