"""The edin panel on the pharmacy page."""

from django import template

register = template.Library()


@register.inclusion_tag("edin/pharmacy_panel.html", takes_context=True)
def edin_panel(context, pharmacy, membership):
    return {"request": context["request"], "pharmacy": pharmacy, "membership": membership}
