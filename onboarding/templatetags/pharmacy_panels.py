"""The panels providers add to the pharmacy page (registered in ``onboarding.registry``)."""

from django import template
from django.utils.safestring import mark_safe

from .. import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def pharmacy_panels(context, pharmacy, membership):
    """Render every registered panel for this pharmacy and member, in order."""
    return mark_safe("".join(panel.render(context, pharmacy, membership) for panel in registry.panels()))  # noqa: S308
