"""The outbox engine, with an in-memory destination standing in for a provider.

Rows are written in the transaction of the appointment change and leave (as a queued drain)
only after commit; edits coalesce into one push of the current state; claims are leased, so a
worker whose lease was taken over records nothing and a dead worker's rows come back; errors
are classified (retry with backoff, dead-letter, blocked). The Google destination's own tests
are in tests/integrations/google/.
"""

import datetime
import io
import random
import threading
import time

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from diary import services as diary
from integrations import outbox, tasks
from integrations.choices import OutboxStatus
from integrations.models import OutboxEntry
from tests.diary.conftest import alice_hours, at, follow_up, patient  # noqa: F401 - fixtures
from tests.integrations.factories import OutboxEntryFactory

pytestmark = pytest.mark.django_db


class MemoryDestination(outbox.Destination):
    """Records pushes; `script` holds outcomes to raise on the next pushes (None: succeed)."""

    key = "test_memory"
    label = "Memory"
    pushes: list = []
    script: list = []
    during_push = None
    lock = threading.Lock()

    def push(self, entry, ctx):
        ctx.check_lease()
        with self.lock:
            outcome = self.script.pop(0) if self.script else None
        hook = type(self).during_push  # a plain function, not bound to this instance
        if hook is not None:
            hook(entry)
        if outcome is not None:
            raise outcome
        with self.lock:
            self.pushes.append((entry.appointment_id, entry.appointment.version))
        return outbox.PushResult(remote_id=f"memory-{entry.appointment_id}")


@pytest.fixture(autouse=True)
def memory():
    MemoryDestination.pushes = []
    MemoryDestination.script = []
    MemoryDestination.during_push = None
    outbox.register_destination(MemoryDestination)
    yield MemoryDestination
    outbox.unregister_destination(MemoryDestination)


@pytest.fixture
def book(rita_receptionist, patient, alice_practitioner, follow_up, clinic_location, alice_hours):  # noqa: F811
    def make(start=None, **overrides):
        values = {
            "actor": rita_receptionist,
            "patient": patient,
            "practitioner": alice_practitioner,
            "service": follow_up,
            "location": clinic_location,
            "start": start or at(9),
        }
        values.update(overrides)
        return diary.appointment_book(**values)

    return make


def rows():
    return OutboxEntry.objects.filter(destination=MemoryDestination.key)


def test_the_row_is_written_in_the_transaction_of_the_change_and_rolls_back_with_it(book):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        appointment = book()
        assert rows().get(appointment=appointment).wanted_version == 1
        raise Abort
    assert not rows().exists()

    appointment = book()
    assert rows().get(appointment=appointment).status == OutboxStatus.PENDING


def test_the_drain_leaves_only_after_commit(book, memory, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment = book()
    assert memory.pushes == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert memory.pushes == [(appointment.pk, 1)]


def test_ten_quick_edits_are_one_push_of_the_current_state(book, memory, rita_receptionist):
    appointment = book()
    for n in range(1, 10):
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist,
            appointment=appointment,
            version=appointment.version,
            start=at(9) + datetime.timedelta(minutes=5 * n),
        )
    outbox.drain()
    assert memory.pushes == [(appointment.pk, 10)]
    entry = rows().get()
    assert (entry.status, entry.wanted_version, entry.pushed_version) == (OutboxStatus.DONE, 10, 10)


def test_running_the_drain_twice_pushes_once(book, memory):
    book()
    assert outbox.drain().done == 1
    assert outbox.drain().claimed == 0
    assert len(memory.pushes) == 1


def test_a_change_committed_during_the_push_is_pushed_next_never_overwritten(book, memory, rita_receptionist):
    appointment = book()

    def edit_once(entry):
        memory.during_push = None
        diary.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=1, start=at(10))

    memory.during_push = edit_once
    outbox.drain()
    assert memory.pushes == [(appointment.pk, 1), (appointment.pk, 2)]
    entry = rows().get()
    assert entry.status == OutboxStatus.DONE and entry.pushed_version == 2


def test_a_worker_whose_lease_was_taken_over_records_nothing_and_a_dead_workers_rows_come_back(book, memory):
    book()
    first_token, first = outbox.claim(limit=10)
    assert len(first) == 1 and first[0].attempts == 1  # the attempt is written before calling out
    assert outbox.claim(limit=10)[1] == []  # leased: nobody else gets it

    # The first worker dies; its lease runs out; another worker claims the row.
    rows().update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    second_token, second = outbox.claim(limit=10)
    assert [e.pk for e in second] == [first[0].pk] and second[0].attempts == 2

    # The first worker wakes up: its outcome is not recorded.
    assert outbox.finish_done(first[0], first_token, version=1, result=outbox.PushResult()) is False
    assert outbox.push_one(second[0], second_token) == "done"
    assert rows().get().status == OutboxStatus.DONE


def test_no_call_starts_once_the_lease_has_run_out(book, memory, settings):
    book()
    token, entries = outbox.claim(limit=1)
    started_long_ago = time.monotonic() - settings.INTEGRATIONS_OUTBOX_LEASE_SECONDS
    assert outbox.push_one(entries[0], token, started=started_long_ago) == "lost"
    assert memory.pushes == []


@pytest.mark.parametrize(
    ("raised", "status", "outcome"),
    [
        (outbox.RetryLater("Google: 429 rateLimitExceeded"), OutboxStatus.PENDING, "retried"),
        (outbox.GiveUp("Google refused the event: 400 invalid"), OutboxStatus.DEAD, "dead"),
        (outbox.Blocked("Google connection of Alice is broken"), OutboxStatus.BLOCKED, "blocked"),
        (RuntimeError("a bug"), OutboxStatus.PENDING, "retried"),
    ],
)
def test_errors_are_classified(raised, status, outcome, book, memory):
    book()
    memory.script = [raised]
    token, entries = outbox.claim(limit=1)
    assert outbox.push_one(entries[0], token) == outcome
    entry = rows().get()
    assert entry.status == status and entry.lease_token is None
    assert entry.last_error
    if status == OutboxStatus.PENDING:
        assert entry.next_attempt_at > timezone.now()
    if status == OutboxStatus.DEAD:
        assert entry.dead_at is not None


def test_transient_errors_dead_letter_after_the_retry_budget(book, memory, settings):
    settings.INTEGRATIONS_OUTBOX_MAX_ATTEMPTS = 4
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 0.001
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 0.002
    book()
    memory.script = [outbox.RetryLater("Google: 503 backendError")] * 10
    report = outbox.drain(until_settled=True, poll_seconds=0.01)
    entry = rows().get()
    assert (report.retried, report.dead) == (3, 1)
    assert entry.status == OutboxStatus.DEAD
    assert entry.last_error == "Gave up after 4 attempts: Google: 503 backendError"


def test_backoff_is_exponential_capped_jittered_and_honours_retry_after(settings):
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 10
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 300
    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(300, 10 * 2 ** (attempts - 1))
        delays = [outbox.backoff_seconds(attempts, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len({round(delay, 6) for delay in delays}) > 150  # jittered
    assert outbox.backoff_seconds(1, retry_after=120, rng=rng) >= 120
    assert outbox.backoff_seconds(1, retry_after=10_000, rng=rng) <= 300


def test_a_new_change_revives_a_dead_row_but_keeps_a_backoff(book, memory, rita_receptionist):
    appointment = book()
    memory.script = [outbox.GiveUp("no")]
    outbox.drain()
    assert rows().get().status == OutboxStatus.DEAD
    appointment = diary.appointment_reschedule(
        actor=rita_receptionist, appointment=appointment, version=1, start=at(10)
    )
    entry = rows().get()
    assert (entry.status, entry.attempts, entry.dead_at) == (OutboxStatus.PENDING, 0, None)

    memory.script = [outbox.RetryLater("slow down", retry_after=600)]
    outbox.drain()
    backing_off = rows().get()
    diary.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=2, start=at(11))
    entry = rows().get()
    assert entry.wanted_version == 3 and entry.next_attempt_at == backing_off.next_attempt_at
    assert entry.attempts == backing_off.attempts == 1


def test_the_command_and_the_sweeper_pick_up_what_a_lost_message_left(book, memory, monkeypatch):
    monkeypatch.setattr(tasks.drain_outbox, "delay", lambda **kwargs: None)  # the broker lost it
    first = book(at(9))
    second = book(at(10))
    assert memory.pushes == []
    out = io.StringIO()
    call_command("drain_outbox", "--workers", "1", stdout=out)
    assert "done 1" in out.getvalue() or "done 2" in out.getvalue()
    third = book(at(11))
    tasks.sweep_outbox()
    assert sorted(pk for pk, _ in memory.pushes) == sorted([first.pk, second.pk, third.pk])


@pytest.mark.django_db(transaction=True)
def test_several_workers_never_push_the_same_row_at_once(clinic, memory):
    """Eight threads on PostgreSQL drain 400 rows: each row is pushed exactly once, and no two
    workers ever hold the same row at the same time."""
    entries = [OutboxEntryFactory(organisation=clinic, destination=MemoryDestination.key) for _ in range(400)]
    in_flight: set[int] = set()
    overlaps = []
    holders: dict[int, set[int]] = {}

    def during(entry):
        with MemoryDestination.lock:
            if entry.pk in in_flight:
                overlaps.append(entry.pk)
            in_flight.add(entry.pk)
            holders.setdefault(entry.pk, set()).add(threading.get_ident())
        time.sleep(0.001)
        with MemoryDestination.lock:
            in_flight.discard(entry.pk)

    memory.during_push = during
    report = outbox.drain(workers=8, batch_size=5)
    assert overlaps == []
    assert report.claimed == report.done == 400
    assert sorted(pk for pk, _ in memory.pushes) == sorted(e.appointment_id for e in entries)
    assert len(holders) == 400 and all(len(threads) == 1 for threads in holders.values())
    assert len({ident for threads in holders.values() for ident in threads}) > 1  # really concurrent
    assert set(rows().values_list("status", flat=True)) == {OutboxStatus.DONE}


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_skip_each_others_rows(clinic):
    for _ in range(60):
        OutboxEntryFactory(organisation=clinic, destination="nowhere")
    claimed: list[list[int]] = []
    barrier = threading.Barrier(6)

    def claimer():
        from django.db import connection

        try:
            barrier.wait()
            for _ in range(4):
                _, entries = outbox.claim(limit=3)
                claimed.append([entry.pk for entry in entries])
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [pk for batch in claimed for pk in batch]
    assert len(flat) == len(set(flat)) == 60


# --- The sync health page and its retry button ----------------------------------------------


@pytest.fixture
def dead_entry(book, memory):
    appointment = book()
    memory.script = [outbox.GiveUp("Google refused the event: 400 invalid")]
    outbox.drain()
    return rows().get(appointment=appointment)


def test_the_practitioner_and_the_admin_see_the_failure_with_its_reason(
    dead_entry, client_for, alice_practitioner, adam_admin
):
    for staff in (alice_practitioner, adam_admin):
        page = client_for(staff).get(reverse("integrations:sync-health"))
        assert page.status_code == 200
        assert "Google refused the event: 400 invalid" in page.content.decode()


def test_another_practitioner_does_not_see_alices_failures(dead_entry, client_for, paul_practitioner):
    page = client_for(paul_practitioner).get(reverse("integrations:sync-health"))
    assert page.status_code == 200
    assert "Google refused the event" not in page.content.decode()


def test_a_receptionist_cannot_see_the_page(client_for, rita_receptionist):
    assert client_for(rita_receptionist).get(reverse("integrations:sync-health")).status_code == 403


@pytest.mark.parametrize("who", ["alice_practitioner", "adam_admin"])
def test_the_practitioner_and_the_admin_may_retry(
    who, request, dead_entry, memory, client_for, django_capture_on_commit_callbacks
):
    staff = request.getfixturevalue(who)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(reverse("integrations:outbox-retry", kwargs={"pk": dead_entry.pk}))
    assert response.status_code == 302
    dead_entry.refresh_from_db()
    assert dead_entry.status == OutboxStatus.DONE
    assert memory.pushes == [(dead_entry.appointment_id, 1)]


def test_paul_cannot_retry_alices_row_nor_rita_anyones(dead_entry, client_for, paul_practitioner, rita_receptionist):
    url = reverse("integrations:outbox-retry", kwargs={"pk": dead_entry.pk})
    assert client_for(paul_practitioner).post(url).status_code == 404
    assert client_for(rita_receptionist).post(url).status_code == 403
    assert client_for(paul_practitioner).get(url).status_code == 405
    dead_entry.refresh_from_db()
    assert dead_entry.status == OutboxStatus.DEAD


def test_the_page_costs_the_same_queries_for_a_bigger_clinic(
    client_for, adam_admin, clinic, django_assert_max_num_queries
):
    from tests.integrations.factories import practitioner

    client = client_for(adam_admin)
    client.get(reverse("integrations:sync-health"))
    for n in range(3):
        OutboxEntryFactory(organisation=clinic, status=OutboxStatus.DEAD, dead_at=timezone.now(), last_error="x")
        practitioner(clinic, n)
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("integrations:sync-health"))
    for n in range(3, 30):
        OutboxEntryFactory(organisation=clinic, status=OutboxStatus.DEAD, dead_at=timezone.now(), last_error="x")
        practitioner(clinic, n)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("integrations:sync-health"))


def test_the_admin_retry_action_requeues_dead_rows_of_its_own_organisation(
    dead_entry, memory, client_for, adam_admin, olga_other, django_capture_on_commit_callbacks
):
    url = reverse("admin:integrations_outboxentry_changelist")
    page = client_for(adam_admin).get(url).content.decode()
    assert "Google refused the event: 400 invalid" in page
    assert "Google refused the event" not in client_for(olga_other).get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(adam_admin).post(url, {"action": "retry", "_selected_action": [dead_entry.pk]})
    assert response.status_code == 302
    dead_entry.refresh_from_db()
    assert dead_entry.status == OutboxStatus.DONE
