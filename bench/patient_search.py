"""Patient search at 200,000 patients: the API against the selector's SQL on its own.

Loads 200,000 patients (COPY) into a throwaway PostgreSQL database, then runs 200 searches
(partial names, misspellings, NHS numbers, dates of birth) through GET /api/v1/patients/?q=
with token auth, and the same searches as raw SQL (the selector's first page, executed with
a cursor). Prints p50/p95 for both, the API/raw ratio at p95, and whether EXPLAIN of a name
search uses a trigram index. Goal: API p95 <= 50 ms and API <= 3x raw.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jelly .venv/bin/python bench/patient_search.py
"""

import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from _common import percentile, report, setup_django, throwaway_database

PATIENTS = 200_000
SEARCHES_PER_KIND = 50
PAGE_SIZE = 50
COLUMNS = [
    "id",
    "organisation_id",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "nhs_number",
    "nhs_number_status",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "registered_gp_practice",
    "deceased",
    "date_of_death",
    "archived",
    "archived_at",
    "search_name",
    "search_text",
    "created_at",
    "updated_at",
]
OUTWARD = ["BA1", "BA2", "BS1", "BS6", "BS8", "SN1", "SW1A", "M1", "LS6", "EH3", "CF10", "NE1", "B15", "OX4"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate_patients(organisation_id, rng: random.Random) -> list[tuple]:
    from faker.providers.person.en_GB import Provider

    from patients.search import search_name_text, search_text_for
    from patients.validators import nhs_check_digit

    last_names = list(Provider.last_names)
    last_weights = list(Provider.last_names.values()) if isinstance(Provider.last_names, dict) else None
    female, male = list(Provider.first_names_female), list(Provider.first_names_male)
    family_names = rng.choices(last_names, weights=last_weights, k=PATIENTS)
    now = datetime.now(UTC)
    nhs_seen: set[str] = set()
    rows = []
    for index in range(PATIENTS):
        gender = "female" if index % 2 else "male"
        given = rng.choice(female if gender == "female" else male)
        family = family_names[index]
        preferred = rng.choice(female + male) if rng.random() < 0.05 else ""
        while True:
            first_nine = f"{rng.randrange(400_000_000, 999_999_999):09d}"
            check = nhs_check_digit(first_nine)
            if check is not None and (number := f"{first_nine}{check}") not in nhs_seen:
                nhs_seen.add(number)
                break
        postcode = f"{rng.choice(OUTWARD)} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        rows.append(
            (
                uuid.uuid4(),
                organisation_id,
                given,
                family,
                preferred,
                date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 94)),
                gender,
                number,
                "unverified",
                f"{given.lower()}.{family.lower()}{index}@example.com",
                f"+447{rng.randrange(100_000_000, 999_999_999)}",
                f"{rng.randrange(1, 200)} High Street",
                "",
                "Bath",
                postcode,
                "",
                False,
                None,
                False,
                None,
                search_name_text(given, family, preferred),
                search_text_for(given, family, preferred),
                now,
                now,
            )
        )
    return rows


def load(rows: list[tuple]) -> None:
    from django.db import connection

    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY patients_patient ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("ANALYZE patients_patient")
    connection.connection.commit()


def misspell(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    position = rng.randrange(1, len(word) - 2)
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def build_queries(rows: list[tuple], rng: random.Random) -> list[tuple[str, str]]:
    sample = rng.sample(rows, SEARCHES_PER_KIND * 4)
    queries = []
    for given, family in ((row[2], row[3]) for row in sample[:SEARCHES_PER_KIND]):
        choice = rng.random()
        if choice < 0.4:
            queries.append(("partial_name", family[: rng.randrange(3, 6)]))
        elif choice < 0.7:
            queries.append(("partial_name", f"{given} {family[:4]}"))
        else:
            queries.append(("partial_name", f"{given} {family}"))
    for given, family in ((row[2], row[3]) for row in sample[SEARCHES_PER_KIND : 2 * SEARCHES_PER_KIND]):
        queries.append(("misspelling", f"{misspell(given, rng)} {misspell(family, rng)}"))
    for number in (row[7] for row in sample[2 * SEARCHES_PER_KIND : 3 * SEARCHES_PER_KIND]):
        queries.append(("nhs_number", f"{number[:3]} {number[3:6]} {number[6:]}"))
    for born in (row[5] for row in sample[3 * SEARCHES_PER_KIND :]):
        queries.append(("date_of_birth", born.strftime("%d/%m/%Y")))
    return queries


def raw_sql(staff, query: str) -> tuple[str, tuple]:
    from patients.selectors import patient_search

    return patient_search(user=staff, query=query)[:PAGE_SIZE].query.sql_with_params()


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client

    from core.choices import Role
    from core.services import api_token_create, organisation_create, staff_create

    rng = random.Random(20260)
    with throwaway_database("patient_search"):
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark needs PostgreSQL (set DATABASE_URL).")
        organisation = organisation_create(name="Bench Clinic", slug="bench", require_two_factor=False)
        staff = staff_create(
            organisation=organisation,
            email="rita@bench.test",
            role=Role.RECEPTIONIST,
            password="Bench-password-2026!",
            given_name="Rita",
            family_name="Bench",
        )
        _, key = api_token_create(staff=staff)

        started = time.monotonic()
        rows = generate_patients(organisation.id, rng)
        load(rows)
        load_seconds = time.monotonic() - started
        progress(f"loaded {PATIENTS} patients in {load_seconds:.1f}s")
        queries = build_queries(rows, rng)
        client = Client(headers={"authorization": f"Token {key}"})

        # Warm up: connection, caches, the first plan of each shape.
        for _, query in queries[:: len(queries) // 20]:
            client.get("/api/v1/patients/", {"q": query})

        api_ms, raw_ms, empty, by_kind, timings = [], [], 0, {}, []
        for kind, query in queries:
            start = time.perf_counter()
            response = client.get("/api/v1/patients/", {"q": query})
            api = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{query!r}: HTTP {response.status_code} {response.content[:200]!r}")
            if not response.json()["results"]:
                empty += 1
                progress(f"no results: {kind} {query!r}")
            sql, params = raw_sql(staff, query)
            start = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()
            raw = (time.perf_counter() - start) * 1000
            api_ms.append(api)
            raw_ms.append(raw)
            by_kind.setdefault(kind, []).append(api)
            timings.append((api, raw, kind, query, response.json()["count"]))
        for api, raw, kind, query, count in sorted(timings, reverse=True)[:10]:
            progress(f"slowest: api {api:.1f} ms, raw {raw:.1f} ms, {count} found, {kind} {query!r}")

        sql, params = raw_sql(staff, "Jonh Smiht")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        progress(plan)

    api_p95, raw_p95 = percentile(api_ms, 95), percentile(raw_ms, 95)
    report("patients", PATIENTS)
    report("searches", len(queries))
    report("searches_without_results", empty)
    report("load_seconds", load_seconds)
    report("api_p50_ms", percentile(api_ms, 50))
    report("api_p95_ms", api_p95)
    report("raw_p50_ms", percentile(raw_ms, 50))
    report("raw_p95_ms", raw_p95)
    report("api_vs_raw_p95_ratio", api_p95 / raw_p95)
    for kind, durations in by_kind.items():
        report(f"api_{kind}_p95_ms", percentile(durations, 95))
    report("explain_uses_trigram_index", "yes" if "_trgm" in plan else "no")


if __name__ == "__main__":
    main()
