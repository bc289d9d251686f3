"""What the access audit costs: the patient detail page with auditing vs. without, on PostgreSQL.

In a throwaway database, Alice (a practitioner caring for the patient) opens a patient with
contacts, a care team and signed notes. Requests alternate, in pairs, between the real page
(which appends one hash-chained audit entry) and the same page with the page's audit call
swapped for a no-op here in the benchmark (there is no runtime switch to turn auditing off).
Database connections are kept between requests, as in production (DATABASE_CONN_MAX_AGE).
Prints p50/p95 for both, the p50 ratio (goal: <= 1.15), the INSERTs into the audit table per
audited request (goal: 1) and the statements auditing adds to a request (BEGIN, claim the chain
head, INSERT the entry, COMMIT; a trigger moves the head's hash with the INSERT).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jelly .venv/bin/python bench/audit_overhead.py
"""

import sys
from contextlib import contextmanager

from _common import percentile, report, setup_django, throwaway_database

REQUESTS = 400
WARMUP = 40
CONTACTS = 3
NOTES = 8


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def audit_switched_off():
    """The patient page's audit call as a no-op, for the comparison only."""
    import patients.views

    real = patients.views.audit_entry_record
    patients.views.audit_entry_record = lambda **kwargs: None
    try:
        yield
    finally:
        patients.views.audit_entry_record = real


def build_patient():
    from datetime import date

    from core.choices import Role
    from core.services import organisation_create, staff_create
    from patients import services

    organisation = organisation_create(name="Bench Clinic", slug="bench-audit", require_two_factor=False)
    alice = staff_create(
        organisation=organisation,
        email="alice@bench.test",
        role=Role.PRACTITIONER,
        password="Bench-password-2026!",
        given_name="Alice",
        family_name="Bench",
    )
    patient = services.patient_create(
        organisation=organisation,
        created_by=alice,
        given_name="John",
        family_name="Smith",
        date_of_birth=date(1980, 2, 3),
        nhs_number="9434765919",
        postcode="BA1 1AA",
    )
    for index in range(CONTACTS):
        services.contact_create(patient=patient, name=f"Contact {index}", relationship="Relative")
    for index in range(NOTES):
        note = services.note_create(patient=patient, author=alice, text=f"Reviewed today ({index}). " * 20, sign=True)
        services.note_addendum_add(note=note, author=alice, text="Addendum.")
    return organisation, alice, patient


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from privacy.audit import verify_chain
    from privacy.models import AuditEntry

    with throwaway_database("audit_overhead"):
        if connection.vendor != "postgresql":
            raise SystemExit("This benchmark needs PostgreSQL (set DATABASE_URL).")
        organisation, alice, patient = build_patient()
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = 60  # keep the connection, as production does

        client = Client()
        client.force_login(alice)
        url = reverse("patients:detail", kwargs={"pk": patient.pk})

        def get() -> float:
            import time

            start = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}")
            return elapsed

        for _ in range(WARMUP):
            get()
        with audit_switched_off():
            for _ in range(WARMUP):
                get()

        # Pairs, alternating which goes first, so load on the machine hits both sides alike.
        audited, unaudited = [], []
        for pair in range(REQUESTS):
            if pair % 2 == 0:
                audited.append(get())
            with audit_switched_off():
                unaudited.append(get())
            if pair % 2 == 1:
                audited.append(get())

        with CaptureQueriesContext(connection) as with_audit:
            client.get(url)
        with audit_switched_off(), CaptureQueriesContext(connection) as without_audit:
            client.get(url)
        statements = [query["sql"] for query in with_audit.captured_queries]
        audit_rows = [sql for sql in statements if sql.startswith('INSERT INTO "privacy_auditentry"')]
        all_inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]
        progress(
            "audit statements: " + "; ".join(" ".join(sql.split())[:60] for sql in statements if "privacy_" in sql)
        )

        chain = verify_chain(organisation)
        entries = AuditEntry.objects.filter(organisation=organisation).count()

    audited_p50, unaudited_p50 = percentile(audited, 50), percentile(unaudited, 50)
    report("requests_each", len(audited))
    report("audited_p50_ms", audited_p50)
    report("audited_p95_ms", percentile(audited, 95))
    report("unaudited_p50_ms", unaudited_p50)
    report("unaudited_p95_ms", percentile(unaudited, 95))
    report("audit_overhead_p50_ratio", audited_p50 / unaudited_p50)
    report("audit_entry_inserts_per_request", len(audit_rows))
    report("insert_statements_per_request", len(all_inserts))
    report("audit_statements_per_request", len(with_audit.captured_queries) - len(without_audit.captured_queries))
    report("audit_entries_written", entries)
    report("audit_chain_intact", "yes" if chain.intact else "no")


if __name__ == "__main__":
    main()
