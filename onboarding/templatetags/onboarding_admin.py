"""The onboarding overview block of the admin index."""

from django import template

from .. import overview

register = template.Library()


@register.inclusion_tag("admin/onboarding/overview.html", takes_context=True)
def onboarding_overview(context):
    request = context["request"]
    if not request.user.has_perm("onboarding.view_job"):
        return {"show": False}
    return {"show": True, **overview.jobs_overview()}
