"""Serve only the sandbox (the simulated outside systems) on its own port, with a threaded WSGI server."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application


class SandboxServer(ThreadedWSGIServer):
    # Benchmarks open many connections at once.
    request_queue_size = 128


class KeepAliveRequestHandler(WSGIRequestHandler):
    """HTTP/1.1, so clients' pooled connections (and this thread's database connection) are reused."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True


class QuietRequestHandler(KeepAliveRequestHandler):
    """Log only answers that are not 2xx/3xx: a benchmark sends thousands of requests."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if len(args) > 1 and str(args[1])[:1] in ("4", "5"):
            super().log_message(format, *args)


class Command(BaseCommand):
    help = (
        "Serve the sandbox alone (Bimedoc and its app, EDIN, the delivery gateway) at http://HOST:PORT/sandbox/. "
        "Point the portal at it with SANDBOX_URL=http://HOST:PORT/sandbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--quiet", action="store_true", help="Log only 4xx/5xx answers.")

    def handle(self, *args, host, port, quiet, **options):
        # The sandbox's own URLs, under the same /sandbox/ prefix the portal mounts them at.
        settings.ROOT_URLCONF = "providers.sandbox.standalone_urls"
        server = SandboxServer((host, port), QuietRequestHandler if quiet else KeepAliveRequestHandler)
        server.daemon_threads = True
        server.set_app(get_wsgi_application())
        self.stdout.write(f"Sandbox serving http://{host}:{server.server_port}/sandbox/ (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
