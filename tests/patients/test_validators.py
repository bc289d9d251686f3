"""NHS number (property-based), postcode and phone normalisation."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.gb import nhs as stdnum_nhs

from patients.validators import (
    format_nhs_number,
    nhs_check_digit,
    normalise_nhs_number,
    normalise_phone,
    normalise_postcode,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
separators = st.sampled_from(["", " ", "-", "  ", " - "])


def with_check_digit(first_nine: str) -> str | None:
    check = nhs_check_digit(first_nine)
    return None if check is None else f"{first_nine}{check}"


valid_numbers = nine_digits.map(with_check_digit).filter(lambda number: number is not None)


@given(number=valid_numbers, seps=st.lists(separators, min_size=3, max_size=3))
def test_a_valid_nhs_number_is_accepted_in_any_spacing(number, seps):
    typed = f"{seps[0]}{number[:3]}{seps[1]}{number[3:6]}{seps[2]}{number[6:]} "

    assert normalise_nhs_number(typed) == number


@given(number=valid_numbers, position=st.integers(0, 9), shift=st.integers(1, 9))
def test_changing_any_single_digit_of_a_valid_nhs_number_is_rejected(number, position, shift):
    changed_digit = str((int(number[position]) + shift) % 10)
    mistyped = number[:position] + changed_digit + number[position + 1 :]

    with pytest.raises(ValidationError):
        normalise_nhs_number(mistyped)


def ninth_digit_making_check_digit_10(first_eight: str) -> str | None:
    # Weights 10..3 on the first eight digits, 2 on the ninth; the check is 10 when total % 11 == 1.
    partial = sum(int(digit) * weight for digit, weight in zip(first_eight, range(10, 2, -1), strict=True))
    ninth = ((1 - partial) * 6) % 11  # 6 is the inverse of 2 modulo 11
    return None if ninth == 10 else f"{first_eight}{ninth}"


check_digit_10_prefixes = (
    st.text(alphabet="0123456789", min_size=8, max_size=8)
    .map(ninth_digit_making_check_digit_10)
    .filter(lambda first_nine: first_nine is not None)
)


@given(first_nine=check_digit_10_prefixes, last=st.sampled_from("0123456789"))
def test_numbers_whose_check_digit_would_be_10_are_always_rejected(first_nine, last):
    assert nhs_check_digit(first_nine) is None
    with pytest.raises(ValidationError):
        normalise_nhs_number(first_nine + last)


@given(candidate=st.text(alphabet="0123456789 -", max_size=14))
def test_the_validator_agrees_with_python_stdnum(candidate):
    try:
        ours = normalise_nhs_number(candidate)
    except ValidationError:
        ours = None
    theirs = stdnum_nhs.compact(candidate) if stdnum_nhs.is_valid(candidate) else None

    if candidate.strip() == "":
        assert ours == ""
    else:
        assert ours == theirs


def test_the_nhs_worked_example():
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert format_nhs_number("9434765919") == "943 476 5919"


@pytest.mark.parametrize(
    "typed",
    [
        "943476591",
        "94347659190",
        "943476591X",
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",
        "943/476/5919",
    ],
)
def test_wrong_length_or_characters_are_rejected(typed):
    with pytest.raises(ValidationError, match="10 digits"):
        normalise_nhs_number(typed)


def test_a_wrong_check_digit_says_so():
    with pytest.raises(ValidationError, match="last digit"):
        normalise_nhs_number("9434765918")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ba11aa", "BA1 1AA"),
        (" BA1  1AA ", "BA1 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("m1 1ae", "M1 1AE"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("", ""),
    ],
)
def test_postcodes_are_upper_case_with_one_space(typed, stored):
    assert normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed", ["BA1", "12345", "BA1 1A", "QA1 1AA", "BA1 1AAA", "not a postcode"])
def test_invalid_postcodes_are_rejected(typed):
    with pytest.raises(ValidationError, match="UK postcode"):
        normalise_postcode(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("01225 123456", "+441225123456"),
        ("+44 1225 123456", "+441225123456"),
        ("(0117) 496 0123", "+441174960123"),
        ("020 7946 0000", "+442079460000"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("", ""),
    ],
)
def test_phone_numbers_are_stored_in_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "phone me", "01225 12", "+44 1225 123456789"])
def test_invalid_phone_numbers_are_rejected(typed):
    with pytest.raises(ValidationError, match="phone number"):
        normalise_phone(typed)


@given(number=valid_numbers)
def test_every_number_we_generate_as_valid_is_valid_for_python_stdnum(number):
    assert stdnum_nhs.is_valid(number)
    assert normalise_nhs_number(number) == number
