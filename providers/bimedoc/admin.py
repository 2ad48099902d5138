"""Bimedoc's admin screens: the form that settles a Bimedoc job by hand (served by the job admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import STEP_CREATE_PHARMACY, STEP_CREATE_USER


class SettleForm(forms.Form):
    """The ids an administrator found at Bimedoc for the creates whose outcome the portal does not know."""

    remote_user_id = forms.CharField(label=_("Id of the user on Bimedoc"), required=False, max_length=255)
    remote_pharmacy_id = forms.CharField(label=_("Id of the pharmacy on Bimedoc"), required=False, max_length=255)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        if STEP_CREATE_USER not in steps:
            del self.fields["remote_user_id"]
        if STEP_CREATE_PHARMACY not in steps:
            del self.fields["remote_pharmacy_id"]
