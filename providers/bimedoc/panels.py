"""The Bimedoc panel on the pharmacy page: accounts, "Open Bimedoc", colleagues and jobs in progress."""

from onboarding.models import Function, Provider, ProviderAccount
from onboarding.registry import Panel
from providers import breaker

from . import labels, selectors, services
from .client import PROVIDER


def panel_context(page_context, pharmacy, membership) -> dict:
    members = list(pharmacy.memberships.all())
    accounts = {
        a.user_id: a for a in ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user_id__in=[m.user_id for m in members])
    }
    own_account = accounts.get(membership.user_id)
    remote_pharmacy = selectors.pharmacy_account(pharmacy)
    return {
        "pharmacy": pharmacy,
        "membership": membership,
        "remote_pharmacy": remote_pharmacy,
        "own_account": own_account,
        "can_open": bool(
            remote_pharmacy
            and remote_pharmacy.is_active
            and own_account
            and own_account.is_active
            and selectors.is_linked(membership.user, pharmacy)
        ),
        # While Bimedoc's circuit is open, "Open Bimedoc" would fail at once: say so instead.
        "available": breaker.is_available(PROVIDER),
        "is_titulaire": membership.function == Function.TITULAIRE,
        "member_accounts": [(m, accounts.get(m.user_id)) for m in members],
        "jobs": selectors.recent_jobs(pharmacy),
        "kind_labels": labels.KIND_LABELS,
        # None: nothing to offer; []: the titulaire may put the pharmacy on Bimedoc; else why not.
        "put_on_refusal": services.pharmacy_onboarding_refusal(pharmacy, membership.user),
    }


PANEL = Panel("bimedoc", "bimedoc/pharmacy_panel.html", panel_context, order=10)
