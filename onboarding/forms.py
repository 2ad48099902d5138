"""Forms for staff sign-up, profile and accepting an invitation, validating every field with translated messages."""

from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Gender, User
from .validators import normalize_cpf, normalize_phone, normalize_rpps


class StaffFieldsMixin:
    """Cleaning shared by every form that edits a staff member's fields."""

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance_pk is not None:
            others = others.exclude(pk=self.instance_pk)
        if others.exists():
            raise forms.ValidationError(_("An account with this email address already exists."))
        return email

    def clean_mobile_number(self):
        return normalize_phone(self.cleaned_data.get("mobile_number", ""))

    def clean_rpps_number(self):
        return normalize_rpps(self.cleaned_data.get("rpps_number", ""))

    def clean_cpf(self):
        cpf = normalize_cpf(self.cleaned_data.get("cpf", ""))
        if cpf and User.objects.filter(cpf=cpf).exclude(pk=self.instance_pk).exists():
            # Worded so that it never confirms that another account holds this CPF.
            raise forms.ValidationError(
                _(
                    "This CPF cannot be saved on your account. "
                    "Check the number; if it is right, contact the portal's administrators."
                )
            )
        return cpf

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if birth_date and birth_date >= timezone.localdate():
            raise forms.ValidationError(_("The date of birth must be in the past."))
        if birth_date and birth_date.year < 1900:
            raise forms.ValidationError(_("Enter a real date of birth."))
        return birth_date


class StaffDetailsForm(StaffFieldsMixin, forms.Form):
    """The details a staff member is known by here and at Bimedoc (mobile in E.164, RPPS 11 digits, gender m|f)."""

    PROFILE_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender")
    instance_pk = None

    first_name = forms.CharField(
        label=_("First name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    mobile_number = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        required=False,
        help_text=_("With the country code, e.g. +33 6 12 34 56 78."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    rpps_number = forms.CharField(
        label=_("RPPS number"),
        max_length=20,
        required=False,
        help_text=_("11 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False)

    def profile(self):
        """The cleaned fields, as the services take them."""
        return {k: self.cleaned_data[k] for k in self.PROFILE_FIELDS}


class SignUpForm(AllauthSignupForm, StaffDetailsForm):
    """A new staff member's account: allauth's email and password, and the details Bimedoc will know them by."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email address")
        self.order_fields(["email", *StaffDetailsForm.PROFILE_FIELDS, "password1", "password2"])


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
    """Choosing a new password through the emailed link; it also proves the email address."""

    def save(self):
        from . import services

        super().save()
        services.verify_after_password_reset(self.user)


class InvitationSignUpForm(SetPasswordMixin, StaffDetailsForm):
    """Accepting an invitation without an account yet: your details (as the inviter typed them) and a password."""

    password1, password2 = SetPasswordMixin.create_password_fields()
    field_order = [*StaffDetailsForm.PROFILE_FIELDS, "password1", "password2"]

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        self.fields["gender"].required = True  # Bimedoc needs it

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "password2" not in self.errors and self.cleaned_data.get("password1"):
            user = User(
                email=self.email,
                first_name=self.cleaned_data.get("first_name", ""),
                last_name=self.cleaned_data.get("last_name", ""),
            )
            self.validate_password_for_user(user)


class ProfileForm(StaffFieldsMixin, forms.ModelForm):
    """A staff member's own profile."""

    mobile_number = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        required=False,
        help_text=_("With the country code, e.g. +33 6 12 34 56 78."),
    )
    rpps_number = forms.CharField(label=_("RPPS number"), max_length=20, required=False, help_text=_("11 digits."))
    cpf = forms.CharField(
        label=_("CPF"), max_length=20, required=False, help_text=_("Brazilian taxpayer number, with or without punctuation.")
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "mobile_number", "rpps_number", "gender", "cpf", "birth_date")

    @property
    def instance_pk(self):
        return self.instance.pk
