"""The address of the client behind a request, through the proxies the operator trusts (django-ipware).

``TRUSTED_PROXY_COUNT`` proxies in front of the portal each append the address
they saw to ``X-Forwarded-For``; the client is the entry that many places from
the end. With 0 (the default) the portal is reached directly and ``REMOTE_ADDR``
is the client: a forwarded header the client wrote itself is never believed.
"""

from django.conf import settings
from ipware import get_client_ip


def client_address(request) -> str:
    """The client's IP address as a string ("unknown" when the request carries none)."""
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    # ipware counts the proxies listed after the client in the header; the last proxy is REMOTE_ADDR.
    address, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    # A shorter chain than configured did not come through the proxies: trust only the connection.
    return address or remote
