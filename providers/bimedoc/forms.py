"""Forms for Bimedoc: the titulaire and pharmacy steps of the wizard, and adding a colleague."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from onboarding.forms import StaffDetailsForm
from onboarding.models import Function, Gender
from onboarding.validators import normalize_phone

_POSTCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,10}$")


class PersonForm(StaffDetailsForm):
    """The fields Bimedoc knows a user by; Bimedoc needs the gender."""

    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Gender.choices])


class TitulaireForm(PersonForm):
    """Step 1: the pharmacy's first user, its titulaire: the signed-in user's own details."""


class PharmacyForm(forms.Form):
    """Step 2: the pharmacy, with the fields Bimedoc takes (the name is required)."""

    name = forms.CharField(label=_("Pharmacy name"), max_length=200)
    phone_number = forms.CharField(
        label=_("Phone number"), max_length=32, required=False, help_text=_("With the country code, e.g. +33 1 45 67 89 00.")
    )
    street = forms.CharField(label=_("Street and number"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=12, required=False)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("The pharmacy needs a name."))
        return name

    def clean_phone_number(self):
        return normalize_phone(self.cleaned_data.get("phone_number", ""))

    def clean_postcode(self):
        postcode = self.cleaned_data.get("postcode", "").strip()
        if postcode and not _POSTCODE_RE.match(postcode):
            raise forms.ValidationError(_("Enter a valid postcode, e.g. 69002."))
        return postcode


class ColleagueForm(PersonForm):
    """A colleague to add to the pharmacy (adjoint or stagiaire)."""

    email = forms.EmailField(label=_("Email address"))
    function = forms.ChoiceField(
        label=_("Function"), choices=[(f.value, f.label) for f in (Function.ADJOINT, Function.STAGIAIRE)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["email", "first_name", "last_name", "function", "mobile_number", "rpps_number", "gender"])

    def clean_email(self):
        # Existing portal users may be added too; the service decides what that means.
        return self.cleaned_data["email"].strip().lower()
