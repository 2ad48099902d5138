"""The form a pharmacy connects its EDIN account with."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ConnectForm(forms.Form):
    """The EDIN email and password (checked by a real login afterwards)."""

    prefix = "edin"

    email = forms.EmailField(label=_("EDIN email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label=_("EDIN password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Kept encrypted; used only to sign in to EDIN for this pharmacy."),
    )
