"""The staff inbox: list, detail (marks read), read/unread, an ad's picture, a coupon's QR code, what each sender may send."""

import io

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services


def _own_item(request, public_id):
    item = selectors.inbox_item_for(request.user, public_id)
    if item is None:
        raise Http404
    return item


@login_required
@require_GET
def inbox(request):
    items = selectors.inbox_for(request.user)
    show = request.GET.get("show")
    if show == "unread":
        items = items.filter(read_at__isnull=True)
    senders = selectors.senders_of(request.user)
    return render(request, "mcg/inbox.html", {"items": items[:200], "show": show, "senders": senders})


@login_required
@require_POST
def sender_preferences(request, provider_id):
    """Opt in to (or out of) a sender's advertisements, or mute it."""
    sender = next((p for p, _pref in selectors.senders_of(request.user) if p.provider_id == provider_id), None)
    if sender is None:
        raise Http404
    services.set_sender_preference(
        request.user, sender, accepts_ads=request.POST.get("accepts_ads") == "on", muted=request.POST.get("muted") == "on"
    )
    messages.success(request, _("Your choices for %(sender)s are saved.") % {"sender": sender.name})
    return redirect("mcg-inbox")


@login_required
@require_GET
def item_detail(request, public_id):
    item = _own_item(request, public_id)
    services.mark_read(item)
    return render(request, "mcg/item_detail.html", {"item": item})


@login_required
@require_POST
def item_mark(request, public_id):
    item = _own_item(request, public_id)
    if request.POST.get("state") == "unread":
        services.mark_unread(item)
    else:
        services.mark_read(item)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = "mcg-inbox"
    return redirect(next_url)


@login_required
@require_GET
@cache_control(private=True, max_age=3600)
def item_picture(request, public_id):
    item = _own_item(request, public_id)
    if not item.picture:
        raise Http404
    response = HttpResponse(bytes(item.picture), content_type=item.picture_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    return response


@login_required
@require_GET
@cache_control(private=True, max_age=3600)
def item_qr_code(request, public_id):
    item = _own_item(request, public_id)
    if not item.qr_payload:
        raise Http404
    buffer = io.BytesIO()
    qrcode.make(item.qr_payload, box_size=8, border=2).save(buffer)
    return HttpResponse(buffer.getvalue(), content_type="image/png")
