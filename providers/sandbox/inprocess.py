"""Reach the sandbox inside this process, before any server is up (``load_demo`` onboards the demo pharmacy so)."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.test import Client
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from .conf import conf as sandbox_conf

# Headers Django's test client takes as arguments, not as HTTP_* headers.
_BODY_HEADERS = {"content-type", "content-length"}


class SandboxAdapter(BaseAdapter):
    """A requests transport that answers from the sandbox's views through Django's test client (no socket)."""

    def __init__(self):
        super().__init__()
        # The client's handler leaves database connections alone: the caller's transaction is not ended mid-call.
        self.client = Client(raise_request_exception=False)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _BODY_HEADERS}
        answer = self.client.generic(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
            SERVER_NAME=url.hostname or "testserver",
            SERVER_PORT=str(url.port or 80),
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response._content = answer.content
        response.encoding = answer.charset
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def _prefix() -> str:
    return sandbox_conf.URL.rstrip("/") + "/"


def serves(url: str) -> bool:
    """Whether calls to ``url`` can be answered in-process (the sandbox is on and the URL is under it)."""
    return settings.SANDBOX_ENABLED and url.startswith(_prefix())


@contextlib.contextmanager
def mounted(session: requests.Session):
    """Within the block, the session's calls under the sandbox's URL are answered in-process."""
    prefix = _prefix()
    session.mount(prefix, SandboxAdapter())
    try:
        yield
    finally:
        session.adapters.pop(prefix, None)
