"""The access audit: what an entry records, the hash chain and its verification, the append-only
trigger, tamper detection, concurrent writers, and one audit row per audited request."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from privacy.audit import AuditContext, verify_chain
from privacy.choices import AuditAction
from privacy.models import AuditChainHead, AuditEntry
from privacy.services import audit_entry_record
from tests.factories import OrganisationFactory
from tests.patients.factories import PatientFactory

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")


def record(patient, actor=None, **kwargs):
    return audit_entry_record(action=AuditAction.VIEW, obj=patient, context=AuditContext(actor=actor), **kwargs)


def without_triggers(sql: str, params=()) -> None:
    """Run SQL as the superuser with triggers off: what an attacker with database access does."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def test_an_entry_says_who_did_what_to_which_record_when_from_where_and_why(alice_practitioner, patient):
    entry = audit_entry_record(
        action=AuditAction.READ_NOTES,
        obj=patient,
        context=AuditContext(actor=alice_practitioner, ip_address="192.0.2.7"),
        purpose="break_glass",
        reason="Collapsed in the waiting room",
        details={"notes": 3},
    )

    entry.refresh_from_db()
    assert entry.actor_id == alice_practitioner.pk
    assert entry.actor_name == "Alice " + alice_practitioner.family_name
    assert entry.actor_role == "practitioner"
    assert (entry.action, entry.object_type, entry.object_id) == ("read_notes", "patients.patient", str(patient.pk))
    assert entry.patient_id == patient.pk
    assert entry.organisation_id == patient.organisation_id
    assert entry.ip_address == "192.0.2.7"
    assert (entry.purpose, entry.reason, entry.details) == (
        "break_glass",
        "Collapsed in the waiting room",
        {"notes": 3},
    )
    assert entry.occurred_at is not None


def test_entries_chain_per_organisation(patient, foreign_patient, alice_practitioner):
    first, second = record(patient), record(patient, alice_practitioner)
    elsewhere = record(foreign_patient)

    assert (first.sequence, second.sequence, elsewhere.sequence) == (1, 2, 1)
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.entry_hash
    assert elsewhere.previous_hash == "0" * 64
    assert AuditChainHead.objects.get(organisation=patient.organisation).last_hash == second.entry_hash
    assert verify_chain(patient.organisation).intact
    assert verify_chain(patient.organisation).entries_checked == 2


def test_details_must_be_small_plain_values(patient):
    with pytest.raises(ValueError):
        record(patient, details={"score": 1.5})
    with pytest.raises(ValueError):
        record(patient, details={"nested": {"a": 1}})


def test_the_verify_command_reports_intact_chains(patient, clinic):
    record(patient)
    out = StringIO()

    call_command("verify_audit_chain", "--organisation", clinic.slug, stdout=out)

    assert out.getvalue().strip() == "bath-physio: intact, 1 entries"


def test_the_verify_command_refuses_an_unknown_organisation(db):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("verify_audit_chain", "--organisation", "nowhere", stdout=StringIO())


@postgresql_only
def test_the_database_refuses_to_change_or_delete_an_entry(patient):
    entry = record(patient)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="nothing happened")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == ""


@postgresql_only
def test_a_changed_entry_is_detected_at_its_link(patient, clinic):
    entries = [record(patient) for _ in range(4)]
    without_triggers("UPDATE privacy_auditentry SET reason = 'covering tracks' WHERE id = %s", [entries[1].pk])

    report = verify_chain(clinic)

    assert not report.intact
    assert report.first_broken_link.sequence == 2
    assert "changed after writing" in report.first_broken_link.problem
    assert report.entries_checked == 1
    out = StringIO()
    with pytest.raises(CommandError, match="bath-physio"):
        call_command("verify_audit_chain", stdout=out)
    assert f"bath-physio: BROKEN at entry #2 (id {entries[1].pk})" in out.getvalue()


@postgresql_only
def test_a_rehashed_entry_still_breaks_the_next_link(patient, clinic):
    from privacy.audit import entry_hash

    entries = [record(patient) for _ in range(3)]
    forged = AuditEntry.objects.get(pk=entries[0].pk)
    forged.reason = "forged"
    without_triggers(
        "UPDATE privacy_auditentry SET reason = 'forged', entry_hash = %s WHERE id = %s",
        [entry_hash(forged), forged.pk],
    )

    report = verify_chain(clinic)

    assert report.first_broken_link.sequence == 2
    assert "previous hash" in report.first_broken_link.problem


@postgresql_only
def test_a_deleted_entry_is_detected(patient, clinic):
    entries = [record(patient) for _ in range(3)]
    without_triggers("DELETE FROM privacy_auditentry WHERE id = %s", [entries[1].pk])

    report = verify_chain(clinic)

    assert report.first_broken_link.sequence == 2
    assert "missing" in report.first_broken_link.problem


@postgresql_only
def test_a_deleted_last_entry_is_detected(patient, clinic):
    entries = [record(patient) for _ in range(3)]
    without_triggers("DELETE FROM privacy_auditentry WHERE id = %s", [entries[2].pk])

    report = verify_chain(clinic)

    assert report.first_broken_link.sequence == 3
    assert "chain head" in report.first_broken_link.problem


def test_a_tampered_organisation_does_not_hide_an_intact_one(patient, foreign_patient, other_clinic, clinic):
    record(patient)
    record(foreign_patient)

    assert verify_chain(other_clinic).intact and verify_chain(clinic).intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    organisation = OrganisationFactory(slug="busy-clinic")
    patient = PatientFactory(organisation=organisation)
    writers, per_writer, errors = 8, 10, []
    start = threading.Barrier(writers)

    def write():
        try:
            start.wait()
            for _ in range(per_writer):
                with transaction.atomic():
                    record(patient)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sequences = sorted(AuditEntry.objects.filter(organisation=organisation).values_list("sequence", flat=True))
    assert sequences == list(range(1, writers * per_writer + 1))
    report = verify_chain(organisation)
    assert report.intact, report.first_broken_link
    assert report.entries_checked == writers * per_writer


def audit_rows(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith('INSERT INTO "privacy_auditentry"')]


def test_a_patient_page_view_writes_one_audit_row(client_for, alice_practitioner, patient, alice_cares_for_patient):
    client = client_for(alice_practitioner)
    client.get(reverse("patients:detail", kwargs={"pk": patient.pk}))  # the organisation's chain head now exists

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("patients:detail", kwargs={"pk": patient.pk}), REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 200
    assert len(audit_rows(queries.captured_queries)) == 1
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().startswith("INSERT")]
    assert len(inserts) == 1  # only the entry: the chain head is claimed with an UPDATE
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert (entry.action, entry.actor_id, entry.ip_address) == ("read_notes", alice_practitioner.pk, "198.51.100.4")


def test_the_ip_is_remote_addr_unless_proxies_are_configured(settings, rf, alice_practitioner):
    from privacy.audit import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.1"  # the left-most value is the client's own claim
    settings.AXES_IPWARE_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.9"
    settings.AXES_IPWARE_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.5"  # fewer hops than proxies: not trusted
    assert client_ip(rf.get("/", REMOTE_ADDR="not-an-ip")) == ""


# --- Anchors: the chain's head kept outside the database ----------------------------------------


def anchors_of(*slugs: str) -> str:
    out = StringIO()
    call_command("audit_anchor", *[arg for slug in slugs for arg in ("--organisation", slug)], stdout=out)
    return out.getvalue()


def verify_with(anchor_lines: str, tmp_path) -> tuple[str, str | None]:
    path = tmp_path / "anchors.jsonl"
    path.write_text(anchor_lines)
    out = StringIO()
    try:
        call_command("verify_audit_chain", "--anchors", str(path), stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def rewrite_chain_from(organisation, sequence: int, **changes) -> None:
    """What someone able to write the database could do: change an entry, then recompute every
    hash after it and the head, so the chain verifies again."""
    from privacy.audit import entry_hash

    previous = (
        AuditEntry.objects.get(organisation=organisation, sequence=sequence - 1).entry_hash
        if sequence > 1
        else "0" * 64
    )
    for entry in AuditEntry.objects.filter(organisation=organisation, sequence__gte=sequence).order_by("sequence"):
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.previous_hash = previous
        entry.entry_hash = previous = entry_hash(entry)
        without_triggers(
            "UPDATE privacy_auditentry SET reason = %s, previous_hash = %s, entry_hash = %s WHERE id = %s",
            [entry.reason, entry.previous_hash, entry.entry_hash, entry.pk],
        )
        changes = {}
    AuditChainHead.objects.filter(organisation=organisation).update(last_hash=previous)


def test_the_anchor_is_each_chains_head(patient, foreign_patient, clinic, other_clinic):
    import json

    last = [record(patient) for _ in range(2)][-1]
    record(foreign_patient)

    lines = [json.loads(line) for line in anchors_of().splitlines()]
    assert {"organisation": clinic.slug, "sequence": 2, "entry_hash": last.entry_hash} in lines
    assert {line["organisation"] for line in lines} == {clinic.slug, other_clinic.slug}
    assert [json.loads(line)["organisation"] for line in anchors_of(clinic.slug).splitlines()] == [clinic.slug]
    with pytest.raises(CommandError, match="No organisation"):
        anchors_of("nowhere")


def test_an_intact_chain_holds_its_anchors_as_it_grows(patient, clinic, tmp_path):
    record(patient)
    earlier = anchors_of(clinic.slug)
    record(patient)

    out, error = verify_with(earlier + anchors_of(clinic.slug), tmp_path)

    assert error is None
    assert "bath-physio: intact, 2 entries" in out
    assert "bath-physio: holds anchor #1" in out and "bath-physio: holds anchor #2" in out


@postgresql_only
def test_a_chain_rewritten_end_to_end_verifies_alone_but_not_against_its_anchor(patient, clinic, tmp_path):
    for _ in range(3):
        record(patient)
    anchored = anchors_of(clinic.slug)

    rewrite_chain_from(clinic, 2, reason="nothing to see")

    assert verify_chain(clinic).intact  # the chain alone cannot tell
    out, error = verify_with(anchored, tmp_path)
    assert "ANCHOR #3 FAILS: entry #3 is not the entry anchored" in out
    assert error is not None and "bath-physio" in error


@postgresql_only
def test_a_chain_cut_back_before_its_anchor_fails_it(patient, clinic, tmp_path):
    entries = [record(patient) for _ in range(3)]
    anchored = anchors_of(clinic.slug)
    without_triggers("DELETE FROM privacy_auditentry WHERE id = %s", [entries[2].pk])
    AuditChainHead.objects.filter(organisation=clinic).update(sequence=2, last_hash=entries[1].entry_hash)

    assert verify_chain(clinic).intact
    out, error = verify_with(anchored, tmp_path)
    assert "ANCHOR #3 FAILS: entry #3, anchored, is missing" in out
    assert error is not None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("not json\n", "Not an audit anchor"),
        ('{"organisation": "bath-physio", "sequence": 1}\n', "Not an audit anchor"),
        ('{"organisation": "nowhere", "sequence": 1, "entry_hash": "' + "a" * 64 + '"}\n', "do not exist: nowhere"),
    ],
)
def test_bad_anchors_are_refused_with_the_reason(clinic, lines, message, tmp_path):
    _, error = verify_with(lines, tmp_path)
    assert error is not None and message in error


def test_beat_logs_the_anchors_hourly(patient, clinic, caplog, settings):
    import json

    from privacy.tasks import log_audit_anchors

    entry = record(patient)
    with caplog.at_level("INFO", logger="jelly.audit.anchor"):
        assert log_audit_anchors() == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "jelly.audit.anchor"]
    assert json.loads(line) == {"organisation": clinic.slug, "sequence": 1, "entry_hash": entry.entry_hash}
    assert settings.CELERY_BEAT_SCHEDULE["privacy-log-audit-anchors"]["task"] == "privacy.tasks.log_audit_anchors"
