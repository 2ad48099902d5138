"""The edin panel on the pharmacy page."""

from django import template
from django.conf import settings

from .. import services
from ..forms import ConnectForm

register = template.Library()


@register.inclusion_tag("edin/pharmacy_panel.html", takes_context=True)
def edin_panel(context, pharmacy, membership):
    account = services.edin_account(pharmacy)
    state = services.connection_state(account)
    form = context.get("edin_form") or ConnectForm(initial={"email": account.login if account else ""})
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "pharmacy": pharmacy,
        "membership": membership,
        "account": account,
        "state": state,
        "can_manage": services.can_manage(membership),
        "form": form,
        # EDIN's own site, where a person solves the captcha (the sandbox serves a stand-in at its root).
        "edin_site_url": f"{settings.EDIN_BASE_URL}/",
        "show_form": form.is_bound or state.code in ("not_connected", "wrong_credentials", "refused"),
    }
