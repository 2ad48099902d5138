"""Serve only the sandbox (the simulated outside systems) on its own port, with a threaded WSGI server.

It is a benchmark instrument: each connection has its own thread (and database
connection), kept alive between requests, and a request goes through no
middleware, so that the sandbox adds as little as it can beyond the latency
its fault profile asks for.
"""

import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from providers.sandbox.faults import ARRIVED


class SandboxServer(ThreadedWSGIServer):
    # Benchmarks open many connections at once.
    request_queue_size = 256
    daemon_threads = True


class KeepAliveRequestHandler(WSGIRequestHandler):
    """HTTP/1.1, so clients' pooled connections (and this thread's database connection) are reused."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True
    arrivals = None  # an open file: one "<unix time> <method> <path>" line per request, as it arrives

    def parse_request(self):
        parsed = super().parse_request()
        # The simulated latency counts from here, so that Django's own handling of the request is inside it.
        self.arrived = time.monotonic()
        if parsed and self.arrivals is not None:
            line = f"{time.time():.6f} {self.command} {self.path}\n"
            with _arrivals_lock:
                self.arrivals.write(line)
        return parsed

    def get_environ(self):
        environ = super().get_environ()
        environ[ARRIVED] = getattr(self, "arrived", None)
        return environ


class QuietRequestHandler(KeepAliveRequestHandler):
    """Log only answers that are not 2xx/3xx: a benchmark sends thousands of requests."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if len(args) > 1 and str(args[1])[:1] in ("4", "5"):
            super().log_message(format, *args)


_arrivals_lock = threading.Lock()


class Command(BaseCommand):
    help = (
        "Serve the sandbox alone (Bimedoc and its app, EDIN, the delivery gateway) at http://HOST:PORT/sandbox/. "
        "Point the portal at it with SANDBOX_URL=http://HOST:PORT/sandbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--quiet", action="store_true", help="Log only 4xx/5xx answers.")
        parser.add_argument(
            "--arrivals", metavar="FILE", help="Append one line per request to FILE: arrival time (unix), method, path."
        )

    def handle(self, *args, host, port, quiet, arrivals, **options):
        # The sandbox's own URLs, under the same /sandbox/ prefix the portal mounts them at; the
        # simulators need none of the portal's middleware (sessions, authentication, CSRF, languages)
        # but CommonMiddleware's Content-Length, without which every answer closes its connection.
        settings.ROOT_URLCONF = "providers.sandbox.standalone_urls"
        settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
        handler = type("Handler", (QuietRequestHandler if quiet else KeepAliveRequestHandler,), {})
        log = open(arrivals, "a", buffering=1) if arrivals else None  # noqa: SIM115 - closed below
        handler.arrivals = log
        server = SandboxServer((host, port), handler)
        server.set_app(get_wsgi_application())
        self.stdout.write(f"Sandbox serving http://{host}:{server.server_port}/sandbox/ (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            if log is not None:
                log.close()
