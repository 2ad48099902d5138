"""How Bimedoc's jobs and refusals read to people: kind and step labels, field names, failure sentences."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers.http import AuthenticationError, Conflict, InvalidRequest, ProviderError, RetryableError, Throttled

from .selectors import KIND_ADD_COLLEAGUE, KIND_ONBOARD

KIND_LABELS = {
    KIND_ONBOARD: gettext_lazy("Pharmacy set-up on Bimedoc"),
    KIND_ADD_COLLEAGUE: gettext_lazy("Colleague's Bimedoc account"),
}

FIELD_LABELS = {
    "email": gettext_lazy("Email address"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "mobile_number": gettext_lazy("Mobile number"),
    "rpps_number": gettext_lazy("RPPS number"),
    "gender": gettext_lazy("Gender"),
    "function": gettext_lazy("Function"),
    "pharmacy": gettext_lazy("Pharmacy"),
    "name": gettext_lazy("Pharmacy name"),
    "phone_number": gettext_lazy("Phone number"),
    "street": gettext_lazy("Street and number"),
    "city": gettext_lazy("City"),
    "postcode": gettext_lazy("Postcode"),
}


def failure_reason(exc: ProviderError) -> str:
    """A sentence for the person who started the job: what went wrong and what to do."""
    if isinstance(exc, Conflict):
        return _("Bimedoc already has a user with this email address.")
    if isinstance(exc, InvalidRequest):
        details = "; ".join(f"{FIELD_LABELS.get(k, k)}: {' '.join(v)}" for k, v in exc.field_errors.items())
        return _("Bimedoc refused some details: %(details)s") % {"details": details or exc.message}
    if isinstance(exc, AuthenticationError):
        return _("Bimedoc refused the portal's credentials; an administrator must check the Bimedoc settings.")
    if isinstance(exc, Throttled):
        return _("Bimedoc asked the portal to slow down; try again in a few seconds.")
    if isinstance(exc, RetryableError):
        return _("Bimedoc did not answer properly (%(error)s).") % {"error": exc.message}
    return exc.message
