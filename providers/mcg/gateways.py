"""Delivery gateway backends for SMS, push (FCM) and SAT messages, chosen by ``DELIVERY_GATEWAY_BACKEND``.

A backend has one method, ``send(message) -> remote id``; it raises the
``providers.http`` errors (``RetryableError`` when trying again may help).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from providers.http import HttpTransport, InvalidRequest, Outbound, client_for, close_clients, json_body, raise_for_status

logger = logging.getLogger(__name__)

PROVIDER = "gateway"


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str  # stable across retries, so the gateway can drop duplicates
    channel: str  # "sms", "fcm" or "sat"
    to: str
    title: str
    body: str
    link: str = ""


class ConsoleGateway:
    """Writes messages to the log instead of sending them (development default)."""

    def send(self, message: OutgoingMessage) -> str:
        logger.info("Gateway (console) %s to %s: %s — %s", message.channel, message.to, message.title, message.body)
        return f"console:{message.message_id}"


class HttpGateway:
    """Posts messages to an HTTP gateway (``DELIVERY_GATEWAY_URL``; the sandbox gateway by default).

    Its transport comes from the one outbound factory: pooled, closable, the
    gateway's circuit breaker wired in.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, recorder=None):
        from onboarding.audit import record_call

        self.api_key = settings.DELIVERY_GATEWAY_API_KEY if api_key is None else api_key
        base_url = base_url or settings.DELIVERY_GATEWAY_URL
        self.transport = client_for(PROVIDER, _build_transport, key=(base_url,), recorder=recorder or record_call)

    def send(self, message: OutgoingMessage) -> str:
        body = {
            "message_id": message.message_id,
            "channel": message.channel,
            "to": message.to,
            "title": message.title,
            "body": message.body,
            "link": message.link,
        }
        response = self.transport.send(
            "send_message",
            "POST",
            "messages",
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}"},
            secrets=[self.api_key],
        )
        raise_for_status(self.transport, response)
        data = json_body(response)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise self.transport.record_invalid_response("send_message", "POST", "messages", response, "not a message receipt")
        return data["id"]


def _build_transport(outbound: Outbound) -> HttpTransport:
    (base_url,) = outbound.key
    return HttpTransport(provider=outbound.provider, base_url=base_url, **outbound.transport_options())


class NoRecipient(InvalidRequest):
    """The user has nothing to send this channel to (e.g. no mobile number for SMS)."""


@lru_cache(maxsize=4)
def _backend(path: str, url: str, api_key: str):
    return import_string(path)()


def close_gateways() -> None:
    """Close the backends' pooled connections and forget them (tests, settings changes)."""
    close_clients(PROVIDER)
    _backend.cache_clear()


def get_gateway():
    """The configured backend (one instance per configuration, so HTTP connections are pooled)."""
    return _backend(settings.DELIVERY_GATEWAY_BACKEND, settings.DELIVERY_GATEWAY_URL, settings.DELIVERY_GATEWAY_API_KEY)
