"""The EDIN panel on the pharmacy page: the connection's state, and connecting or disconnecting it."""

from onboarding.registry import Panel

from . import services
from .conf import conf
from .forms import ConnectForm


def panel_context(page_context, pharmacy, membership) -> dict:
    account = services.edin_account(pharmacy)
    state = services.connection_state(account)
    form = page_context.get("edin_form") or ConnectForm(initial={"email": account.login if account else ""})
    return {
        "pharmacy": pharmacy,
        "membership": membership,
        "account": account,
        "state": state,
        "can_manage": services.can_manage(membership),
        "form": form,
        # EDIN's own site, where a person solves the captcha (the sandbox serves a stand-in at its root).
        "edin_site_url": f"{conf.BASE_URL.rstrip('/')}/",
        "show_form": form.is_bound or state.code in ("not_connected", "wrong_credentials", "refused"),
    }


PANEL = Panel("edin", "edin/pharmacy_panel.html", panel_context, order=20)
