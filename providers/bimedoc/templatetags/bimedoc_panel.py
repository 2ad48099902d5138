"""The Bimedoc panel on the pharmacy page: accounts, "Open Bimedoc", colleagues and jobs in progress."""

from django import template

from onboarding.models import Function, Job, Provider, ProviderAccount
from providers import breaker

from .. import services

register = template.Library()


@register.inclusion_tag("bimedoc/pharmacy_panel.html", takes_context=True)
def bimedoc_panel(context, pharmacy, membership):
    members = list(pharmacy.memberships.all())
    accounts = {
        a.user_id: a for a in ProviderAccount.objects.filter(provider=Provider.BIMEDOC, user_id__in=[m.user_id for m in members])
    }
    own_account = accounts.get(membership.user_id)
    remote_pharmacy = services.pharmacy_account(pharmacy)
    jobs = Job.objects.filter(pharmacy=pharmacy, kind__in=services.JOB_STEPS).select_related("user")[:5]
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "pharmacy": pharmacy,
        "membership": membership,
        "remote_pharmacy": remote_pharmacy,
        "own_account": own_account,
        "can_open": bool(
            remote_pharmacy
            and remote_pharmacy.is_active
            and own_account
            and own_account.is_active
            and services.is_linked(membership.user, pharmacy)
        ),
        # While Bimedoc's circuit is open, "Open Bimedoc" would fail at once: say so instead.
        "available": breaker.is_available(services.PROVIDER),
        "is_titulaire": membership.function == Function.TITULAIRE,
        "member_accounts": [(m, accounts.get(m.user_id)) for m in members],
        "jobs": jobs,
        "kind_labels": services.KIND_LABELS,
        # None: nothing to offer; []: the titulaire may put the pharmacy on Bimedoc; else why not.
        "put_on_refusal": services.pharmacy_onboarding_refusal(pharmacy, membership.user),
    }
