"""Validation and normalisation of the identifiers the portal stores (CPF, RPPS, phone numbers)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError as StdnumError


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return the number in E.164 form, or raise ValidationError (national numbers read in DEFAULT_PHONE_REGION)."""
    region = region or settings.DEFAULT_PHONE_REGION
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number, e.g. +33 6 12 34 56 78."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    if value and normalize_phone(value) != value:
        raise ValidationError(_("Phone numbers are stored in E.164 form, e.g. +33612345678."), code="not_e164")


def normalize_cpf(value: str) -> str:
    """Return the CPF as its 11 digits (punctuation allowed on input), or raise ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return stdnum_cpf.validate(value)
    except StdnumError:
        raise ValidationError(_("Enter a valid CPF (11 digits with valid check digits)."), code="invalid_cpf")


def validate_cpf(value: str) -> None:
    if value and normalize_cpf(value) != value:
        raise ValidationError(_("A CPF is stored as its 11 digits."), code="cpf_not_digits")


def normalize_rpps(value: str) -> str:
    """Return the RPPS number as its 11 digits (spaces allowed on input), or raise ValidationError."""
    digits = "".join((value or "").split())
    if not digits:
        return ""
    if len(digits) != 11 or not digits.isdigit():
        raise ValidationError(_("An RPPS number has exactly 11 digits."), code="invalid_rpps")
    return digits


def validate_rpps(value: str) -> None:
    if value:
        normalize_rpps(value)
