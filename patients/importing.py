"""Reading patients from a CSV file: header synonyms and per-row validation.

Rows are checked with the same normalisers and validators as the model (patients/validators.py)
but without `full_clean` per row, which is too slow for 100,000 rows; the database constraints
still hold the last line. `patients.services.patients_import` does the importing.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from patients.choices import Gender
from patients.models import Patient
from patients.search import name_words, parse_uk_date
from patients.validators import normalise_nhs_number, normalise_phone, normalise_postcode

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "given_name": ("given name", "first name", "forename", "forenames", "firstname", "christian name"),
    "family_name": ("family name", "surname", "last name", "lastname"),
    "preferred_name": ("preferred name", "known as", "nickname"),
    "date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "d o b"),
    "gender": ("gender", "sex", "administrative gender"),
    "nhs_number": ("nhs number", "nhs no", "nhs", "nhsno", "nhs num"),
    "email": ("email", "email address", "e mail"),
    "phone": ("phone", "telephone", "phone number", "telephone number", "mobile", "tel"),
    "address_line1": ("address line1", "address line 1", "address1", "address 1", "address"),
    "address_line2": ("address line2", "address line 2", "address2", "address 2"),
    "town": ("town", "city", "town city", "post town"),
    "postcode": ("postcode", "post code", "postal code"),
    "registered_gp_practice": ("registered gp practice", "gp practice", "gp", "registered gp", "gp surgery"),
}
REQUIRED_COLUMNS = ("given_name", "family_name", "date_of_birth")
GENDER_SYNONYMS = {
    "m": Gender.MALE,
    "male": Gender.MALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "o": Gender.OTHER,
    "other": Gender.OTHER,
    "u": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
    "not known": Gender.UNKNOWN,
    "": Gender.UNKNOWN,
}
MAX_LENGTHS = {
    name: Patient._meta.get_field(name).max_length
    for name in (
        "given_name",
        "family_name",
        "preferred_name",
        "email",
        "address_line1",
        "address_line2",
        "town",
        "registered_gp_practice",
    )
}


def _header_key(header: str) -> str:
    cleaned = "".join(char if char.isalnum() else " " for char in (header or "").lower())
    return " ".join(cleaned.split())


SYNONYM_TO_FIELD = {
    _header_key(synonym): field_name
    for field_name, synonyms in HEADER_SYNONYMS.items()
    for synonym in (field_name, *synonyms)
}


@dataclass(frozen=True)
class ImportProblem:
    """One reason a row was not imported. `row` counts the header as row 1, as spreadsheets do."""

    row: int
    column: str
    reason: str


@dataclass
class ColumnMap:
    fields: dict[str, int]  # field name → column index
    headers: dict[str, str]  # field name → the header as written in the file
    unknown: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def map_header(header: list[str]) -> ColumnMap:
    """Which column holds which field; unknown columns are listed and ignored."""
    mapping = ColumnMap(fields={}, headers={})
    for index, raw in enumerate(header):
        field_name = SYNONYM_TO_FIELD.get(_header_key(raw))
        if field_name is None:
            if raw.strip():
                mapping.unknown.append(raw.strip())
            continue
        if field_name in mapping.fields:
            mapping.problems.append(ImportProblem(1, raw.strip(), f"A second column for {field_name}; use only one."))
            continue
        mapping.fields[field_name] = index
        mapping.headers[field_name] = raw.strip()
    for required in REQUIRED_COLUMNS:
        if required not in mapping.fields:
            synonyms = ", ".join(HEADER_SYNONYMS[required][:3])
            mapping.problems.append(ImportProblem(1, required, f"Missing column: {required} (or {synonyms})."))
    return mapping


def read_rows(lines: Iterable[str]) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(lines)
    header = next(reader, [])
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    return header, reader


@dataclass
class ParsedRow:
    row: int
    data: dict
    problems: list[ImportProblem]

    @property
    def nhs_number(self) -> str:
        return self.data.get("nhs_number", "")

    @property
    def name_and_birth_key(self) -> tuple[str, str, date] | None:
        if not self.data.get("date_of_birth"):
            return None
        return person_key(self.data["given_name"], self.data["family_name"], self.data["date_of_birth"])


def person_key(given_name: str, family_name: str, date_of_birth: date) -> tuple[str, str, date]:
    return (" ".join(name_words(given_name)), " ".join(name_words(family_name)), date_of_birth)


def parse_row(number: int, values: list[str], mapping: ColumnMap, *, today: date) -> ParsedRow:
    """Normalise one row and list every problem with it (column by column)."""
    data: dict = {}
    problems: list[ImportProblem] = []

    def problem(field_name: str, reason: str) -> None:
        problems.append(ImportProblem(number, mapping.headers.get(field_name, field_name), reason))

    for field_name, index in mapping.fields.items():
        raw = values[index].strip() if index < len(values) else ""
        if field_name in MAX_LENGTHS and len(raw) > MAX_LENGTHS[field_name]:
            problem(field_name, f"Longer than {MAX_LENGTHS[field_name]} characters.")
            continue
        try:
            if field_name == "date_of_birth":
                if not raw:
                    problem(field_name, "A date of birth is required.")
                    continue
                parsed = parse_uk_date(raw, today=today)
                if parsed is None:
                    problem(field_name, f"Not a date: {raw!r} (use DD/MM/YYYY or YYYY-MM-DD).")
                    continue
                if parsed > today:
                    problem(field_name, "The date of birth cannot be in the future.")
                    continue
                data[field_name] = parsed
            elif field_name in ("given_name", "family_name"):
                if not raw:
                    problem(field_name, f"A {field_name.replace('_', ' ')} is required.")
                    continue
                data[field_name] = raw
            elif field_name == "gender":
                gender = GENDER_SYNONYMS.get(raw.lower())
                if gender is None:
                    problem(field_name, f"Unknown gender {raw!r} (use male, female, other or unknown).")
                    continue
                data[field_name] = gender.value
            elif field_name == "nhs_number":
                data[field_name] = normalise_nhs_number(raw)
            elif field_name == "postcode":
                data[field_name] = normalise_postcode(raw)
            elif field_name == "phone":
                data[field_name] = normalise_phone(raw)
            elif field_name == "email":
                if raw:
                    validate_email(raw)
                data[field_name] = raw
            else:
                data[field_name] = raw
        except ValidationError as exc:
            problem(field_name, " ".join(exc.messages))
    return ParsedRow(row=number, data=data, problems=problems)
