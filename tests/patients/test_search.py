"""One search box: names (partial, misspelt), dates of birth, NHS numbers, postcodes, phones."""

from datetime import date

import pytest

from patients.models import Patient
from patients.search import consonant_skeleton, letters_key, name_words, parse_query
from patients.selectors import apply_patient_search, patient_search
from tests.patients.factories import PatientFactory


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("03/02/1980", date(1980, 2, 3)),
        ("3/2/1980", date(1980, 2, 3)),
        ("03-02-1980", date(1980, 2, 3)),
        ("03.02.1980", date(1980, 2, 3)),
        ("3 Feb 1980", date(1980, 2, 3)),
        ("3rd February 1980", date(1980, 2, 3)),
        ("1980-02-03", date(1980, 2, 3)),
        ("03/02/80", date(1980, 2, 3)),
    ],
)
def test_uk_dates_of_birth_are_understood(typed, expected):
    assert parse_query(typed).date_of_birth == expected
    assert parse_query(typed).names == ()


def test_a_name_and_a_date_together():
    parsed = parse_query("Smith 03/02/1980")

    assert parsed.date_of_birth == date(1980, 2, 3)
    assert [name.word for name in parsed.names] == ["smith"]


@pytest.mark.parametrize("typed", ["943 476 5919", "943-476-5919", "9434765919", " 943 4765919 "])
def test_nhs_numbers_in_any_spacing(typed):
    assert parse_query(typed).nhs_number == "9434765919"


def test_phone_numbers_are_read_as_e164_and_as_digits():
    parsed = parse_query("01225 123456")

    assert parsed.phone == "+441225123456"
    assert parsed.phone_digits == "1225123456"
    assert parsed.nhs_number == ""


def test_postcodes_full_and_district():
    assert parse_query("ba1 1aa").postcode == "BA1 1AA"
    assert parse_query("BA11AA").postcode == "BA1 1AA"
    assert parse_query("BA1").postcode_district == "BA1"
    assert [name.word for name in parse_query("smith ba2").names] == ["smith"]


def test_names_lose_accents_apostrophes_and_case():
    assert name_words("Zoë O'Brien-Smith") == ["zoe", "obrien", "smith"]


def test_fuzzy_keys_forgive_sound_alike_spellings_and_swapped_letters():
    assert consonant_skeleton("smith") == consonant_skeleton("smiht") == consonant_skeleton("smyth") == "smt"
    assert consonant_skeleton("john") == consonant_skeleton("jon") == "jn"
    assert consonant_skeleton("stephen") == consonant_skeleton("steven")
    assert letters_key("curtis") == letters_key("cutris")


def test_a_half_typed_last_word_is_matched_as_a_prefix_only():
    assert parse_query("jone").names[0].keys == ("ejno",)
    assert parse_query("smi").names[0].keys == ()
    assert parse_query("jon smith").names[0].keys == ("jn",)
    assert parse_query("smiht").names[0].keys != ()


@pytest.fixture
def people(clinic):
    return {
        "john": PatientFactory(
            organisation=clinic,
            given_name="John",
            family_name="Smith",
            date_of_birth=date(1980, 2, 3),
            nhs_number="9434765919",
            postcode="BA1 1AA",
            phone="+441225123456",
        ),
        "jane": PatientFactory(
            organisation=clinic,
            given_name="Jane",
            family_name="Smithson",
            date_of_birth=date(1975, 6, 1),
            postcode="BA2 4BL",
            phone="+441174960001",
        ),
        "oliver": PatientFactory(
            organisation=clinic,
            given_name="Oliver",
            family_name="Jones",
            preferred_name="Olly",
            date_of_birth=date(2001, 12, 24),
            postcode="SW1A 1AA",
            phone="+442079460000",
        ),
        "zoe": PatientFactory(
            organisation=clinic,
            given_name="Zoë",
            family_name="O'Brien",
            date_of_birth=date(1990, 1, 1),
            postcode="BA1 2BT",
            phone="+441174960002",
        ),
    }


def found(user, query):
    return [str(patient) for patient in patient_search(user=user, query=query)]


@pytest.mark.parametrize(
    ("query", "expected_first"),
    [
        ("john smith", "John Smith"),
        ("smi", "John Smith"),
        ("Jonh Smiht", "John Smith"),
        ("jon smith", "John Smith"),
        ("olly", "Oliver Jones"),
        ("o'brien", "Zoë O'Brien"),
        ("zoe", "Zoë O'Brien"),
        ("03/02/1980", "John Smith"),
        ("3 Feb 1980", "John Smith"),
        ("1980-02-03", "John Smith"),
        ("943 476 5919", "John Smith"),
        ("943-476-5919", "John Smith"),
        ("ba1 1aa", "John Smith"),
        ("SW1A", "Oliver Jones"),
        ("01225 123456", "John Smith"),
        ("+44 1225 123456", "John Smith"),
        ("123456", "John Smith"),
        ("smith 03/02/1980", "John Smith"),
    ],
)
def test_each_kind_of_query_finds_the_patient(people, adam_admin, query, expected_first):
    results = found(adam_admin, query)

    assert results, f"{query!r} found nobody"
    assert results[0] == expected_first


def test_partial_names_match_the_start_of_words_only(people, adam_admin):
    assert set(found(adam_admin, "smith")) == {"John Smith", "Jane Smithson"}
    assert found(adam_admin, "mith") == []


def test_the_closest_name_ranks_first(people, adam_admin):
    assert found(adam_admin, "smith")[0] == "John Smith"
    assert found(adam_admin, "smithson")[0] == "Jane Smithson"


def test_a_query_that_matches_nothing_finds_nobody(people, adam_admin):
    assert found(adam_admin, "xylophone") == []
    assert found(adam_admin, "01/01/1900") == []


def test_an_exact_nhs_number_ranks_before_a_phone_number_match(clinic, adam_admin):
    # A 10-digit number that is both a valid NHS number and the national part of a phone number.
    from patients.validators import nhs_check_digit

    first_nine = next(f"1174960{n:02d}" for n in range(100) if nhs_check_digit(f"1174960{n:02d}") is not None)
    number = first_nine + str(nhs_check_digit(first_nine))
    by_phone = PatientFactory(organisation=clinic, given_name="Aaron", family_name="Aardvark", phone=f"+44{number}")
    by_nhs = PatientFactory(organisation=clinic, given_name="Zed", family_name="Zebra", nhs_number=number)

    results = list(patient_search(user=adam_admin, query=number))

    assert results == [by_nhs, by_phone]


def test_an_exact_date_of_birth_ranks_first(clinic, adam_admin):
    twin = PatientFactory(organisation=clinic, given_name="Sam", family_name="Smith", date_of_birth=date(1980, 2, 3))
    other = PatientFactory(organisation=clinic, given_name="Sam", family_name="Smith", date_of_birth=date(1999, 9, 9))

    assert list(patient_search(user=adam_admin, query="sam smith 03/02/1980")) == [twin]
    assert other in patient_search(user=adam_admin, query="sam smith")


def test_search_never_crosses_organisations(people, other_clinic, olga_other):
    PatientFactory(organisation=other_clinic, given_name="John", family_name="Smith")

    assert [p.organisation_id for p in patient_search(user=olga_other, query="john smith")] == [other_clinic.id]


def test_the_sqlite_fallback_finds_the_same_patients_without_ranking(people, adam_admin):
    queryset = Patient.objects.visible_to(adam_admin)

    def fallback(query):
        return [str(patient) for patient in apply_patient_search(queryset, query, vendor="sqlite")]

    assert fallback("Jonh Smiht") == ["John Smith"]
    assert fallback("943 476 5919") == ["John Smith"]
    assert fallback("03/02/1980") == ["John Smith"]
    assert set(fallback("smi")) == {"John Smith", "Jane Smithson"}
