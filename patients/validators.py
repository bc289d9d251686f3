"""NHS number, UK postcode and phone: normalise what people type, or say why it is wrong.

One set of functions serves the model, forms, API serializers and the CSV import, so a value
accepted anywhere is stored the same way everywhere. Each `normalise_*` returns the canonical
form ("" for blank input) or raises `ValidationError`; each `validate_*` is the model-field
validator built on it.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError

NHS_NUMBER_SEPARATORS = re.compile(r"[\s\-]")
TEN_DIGITS = re.compile(r"[0-9]{10}")

# The GOV.UK / Royal Mail shape of a postcode (outward code, then inward code), plus GIR 0AA.
POSTCODE = re.compile(
    r"^(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW]) [0-9][ABD-HJLNP-UW-Z]{2})$"
)
OUTWARD_CODE = re.compile(r"^[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])$")

PHONE_REGION = "GB"


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 with weights 10..2; None when the remainder gives 10 (no valid number)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str | None) -> str:
    """ "943 476 5919", "943-476-5919" or "9434765919" → "9434765919"."""
    raw = (value or "").strip()
    if not raw:
        return ""
    compact = NHS_NUMBER_SEPARATORS.sub("", raw)
    if not TEN_DIGITS.fullmatch(compact):
        raise ValidationError("An NHS number has 10 digits (spaces or hyphens are fine).", code="nhs_number_format")
    if nhs_check_digit(compact[:9]) != int(compact[9]):
        raise ValidationError(
            "This is not a valid NHS number: the last digit does not match. Check it for a typing mistake.",
            code="nhs_number_check_digit",
        )
    return compact


def format_nhs_number(value: str) -> str:
    """ "9434765919" → "943 476 5919" (the NHS display format)."""
    if len(value or "") != 10:
        return value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def validate_nhs_number(value: str) -> None:
    if normalise_nhs_number(value) != value:
        raise ValidationError("NHS numbers are stored as 10 digits without spaces.", code="nhs_number_format")


def normalise_postcode(value: str | None) -> str:
    """ "ba11aa" or " BA1  1AA " → "BA1 1AA"."""
    compact = re.sub(r"\s+", "", (value or "")).upper()
    if not compact:
        return ""
    candidate = f"{compact[:-3]} {compact[-3:]}"
    if not POSTCODE.fullmatch(candidate):
        raise ValidationError("Enter a full UK postcode, such as BA1 1AA.", code="postcode")
    return candidate


def validate_postcode(value: str) -> None:
    if normalise_postcode(value) != value:
        raise ValidationError("Enter a full UK postcode, such as BA1 1AA.", code="postcode")


def normalise_phone(value: str | None) -> str:
    """A UK or international number → E.164 ("01225 123456" → "+441225123456")."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Enter a phone number, such as 01225 123456 or +44 1225 123456.", code="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This is not a valid phone number. Check the number of digits and the area code.", code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    if normalise_phone(value) != value:
        raise ValidationError("Phone numbers are stored in international form, such as +441225123456.", code="phone")


def format_phone(value: str) -> str:
    """E.164 → how people read it: national format for UK numbers, international otherwise."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
