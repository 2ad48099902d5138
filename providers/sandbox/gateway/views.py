"""The simulated delivery gateway: ``POST messages`` sends an SMS, push (FCM) or SAT message.

Authentication: ``Authorization: Bearer <DELIVERY_GATEWAY_API_KEY>``. The caller
names each message with ``message_id``; sending the same id again answers the
first message again without sending twice (so a client may retry safely).
"""

import hmac
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..faults import with_faults
from .models import GatewayMessage

CHANNELS = ("sms", "fcm", "sat")
LIMITS = {"message_id": 100, "to": 200, "title": 100, "body": 1000, "link": 2000}


def _message_json(message):
    return {
        "id": message.message_id,
        "channel": message.channel,
        "to": message.to,
        "status": "accepted",
        "received_at": message.received_at.isoformat(),
    }


def _authorized(request) -> bool:
    expected = f"Bearer {settings.DELIVERY_GATEWAY_API_KEY}"
    return bool(settings.DELIVERY_GATEWAY_API_KEY) and hmac.compare_digest(
        request.headers.get("Authorization", "").encode(), expected.encode()
    )


def _validate(data):
    if not isinstance(data, dict):
        return {"detail": ["Send a JSON object."]}
    errors = {}
    for name in ("message_id", "channel", "to"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            errors[name] = ["This field is required."]
    for name, limit in LIMITS.items():
        value = data.get(name, "")
        if not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
    if "channel" not in errors and data["channel"] not in CHANNELS:
        errors["channel"] = [f"One of: {', '.join(CHANNELS)}."]
    return errors


@csrf_exempt
@require_http_methods(["GET", "POST"])
@with_faults("gateway")
def messages(request):
    if not _authorized(request):
        return JsonResponse({"detail": "Invalid or missing API key."}, status=401)
    if request.method == "GET":
        recent = GatewayMessage.objects.all()[:100]
        return JsonResponse({"results": [_message_json(m) for m in recent]})
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return JsonResponse({"detail": ["Malformed JSON."]}, status=400)
    errors = _validate(data)
    if errors:
        return JsonResponse(errors, status=400)
    fields = {name: data.get(name, "") for name in ("channel", "to", "title", "body", "link")}
    try:
        with transaction.atomic():
            message = GatewayMessage.objects.create(message_id=data["message_id"], **fields)
        status = 202
    except IntegrityError:
        message = GatewayMessage.objects.get(message_id=data["message_id"])
        status = 200
    return JsonResponse(_message_json(message), status=status)
