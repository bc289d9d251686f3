"""The outbox engine, shared by every destination (Google Calendar now, Zoom next).

How a row moves (see `integrations.models.OutboxEntry`):

1. The diary's change listener (`services.outbox_on_appointment_change`) raises the row's
   `wanted_version` in the transaction of the change and, on commit, queues a drain.
2. `claim` picks due rows with `SELECT … FOR UPDATE SKIP LOCKED` in a short transaction and gives
   them a lease (`lease_token`, `lease_until`), counting the attempt before anything is called.
3. The destination pushes the appointment's *current* state, outside any transaction. It checks
   the lease before each call out, so a row whose lease ran out is never pushed by two workers.
4. The outcome is written with an UPDATE conditional on the lease token: a worker whose lease
   was taken over records nothing. `done` only if nothing newer was wanted meanwhile.

A worker killed mid-push simply never finishes: its rows become claimable when the lease ends.
Pushes are idempotent (deterministic remote ids), so the retry cannot duplicate anything.

Errors, as destinations report them: `RetryLater` (rate limits, 5xx, timeouts: capped
exponential backoff with jitter, then dead after the retry budget), `GiveUp` (permanent: dead
at once), `Blocked` (the connection is broken: waits for a reconnect).
"""

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.choices import OutboxStatus
from integrations.models import OutboxEntry

logger = logging.getLogger(__name__)


class OutboxOutcome(Exception):
    """Raised by a destination to say how a push ended, other than success."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:300]


class RetryLater(OutboxOutcome):
    """Transient: try again after a backoff (at least `retry_after` seconds if given)."""

    def __init__(self, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class GiveUp(OutboxOutcome):
    """Permanent: retrying the same push cannot help. The row is dead-lettered."""


class Blocked(OutboxOutcome):
    """The connection the push needs is broken; the row waits for its owner to reconnect."""


class LeaseLost(Exception):
    """The lease ran out before the next call out: leave the row to whoever holds it now."""


@dataclass(frozen=True)
class PushResult:
    """Where the pushed copy lives after a successful push (all empty: nowhere)."""

    remote_owner_id: object = None
    remote_container: str = ""
    remote_id: str = ""
    remote_stale: list = field(default_factory=list)


class Destination:
    """A place appointments are pushed to. Subclasses set `key` and implement `push`.

    `push(entry, ctx)` reads `entry.appointment` (its current state, loaded at claim time) and
    the entry's remote fields, makes the remote side match, and returns a `PushResult`. It calls
    `ctx.check_lease()` before every call out, and raises `RetryLater`, `GiveUp` or `Blocked`.
    `wants(change, cache)` says whether a diary change should create a row that does not exist
    yet (`cache` holds what the listener read ahead for this change).
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def wants(self, change, cache: dict) -> bool:
        return True

    def prepare(self, entries: list[OutboxEntry], cache: dict) -> None:
        """Called once per claimed batch before its pushes: load in bulk what the pushes need
        (kept in `cache`, fresh for every batch)."""

    def push(self, entry: OutboxEntry, ctx: "PushContext") -> PushResult:
        raise NotImplementedError

    def after_drain(self) -> None:
        """Called once after each drain (e.g. to finish disconnects waiting on removals)."""


_destinations: dict[str, type[Destination]] = {}


def register_destination(destination: type[Destination]) -> type[Destination]:
    if not destination.key:
        raise ValueError("A destination needs a key.")
    _destinations[destination.key] = destination
    return destination


def unregister_destination(destination: type[Destination]) -> None:
    if _destinations.get(destination.key) is destination:
        del _destinations[destination.key]


def destinations() -> dict[str, type[Destination]]:
    return dict(_destinations)


def destination_for(key: str) -> Destination:
    try:
        return _destinations[key]()
    except KeyError:
        raise GiveUp(f"No destination called {key!r} is installed.") from None


@dataclass
class PushContext:
    """What one push may use: its lease deadline, per-drain caches, and a way to write down a
    remote copy it is about to create (before the call, in case the worker dies after it)."""

    lease_deadline: float
    cache: dict = field(default_factory=dict)
    entry: OutboxEntry | None = None
    token: uuid.UUID | None = None

    def check_lease(self) -> None:
        if time.monotonic() > self.lease_deadline:
            raise LeaseLost

    def remember_possible_copy(self, placement: dict) -> None:
        """Record `placement` among the copies that may exist, before creating it.

        If the call succeeds but the worker dies (or the answer is lost) before the outcome is
        recorded, the next push still knows the copy may be there and removes it if it is no
        longer wanted (e.g. the appointment was reassigned meanwhile). Conditional on the lease.
        """
        self.check_lease()
        stale = [*(self.entry.remote_stale or []), placement]
        if not OutboxEntry.objects.filter(pk=self.entry.pk, lease_token=self.token).update(remote_stale=stale):
            raise LeaseLost
        self.entry.remote_stale = stale


@dataclass
class DrainReport:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    blocked: int = 0
    lost: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in ("claimed", "done", "retried", "dead", "blocked", "lost")}

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.as_dict().items())


def lease_seconds() -> float:
    return float(settings.INTEGRATIONS_OUTBOX_LEASE_SECONDS)


def backoff_seconds(attempts: int, *, retry_after: float | None = None, rng=random) -> float:
    """Capped exponential backoff with "equal jitter": between half and all of
    min(cap, base * 2^(attempts-1)), and never sooner than the provider's Retry-After (capped)."""
    base = float(settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS)
    cap = float(settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS)
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if retry_after:
        delay = max(delay, min(float(retry_after), cap))
    return delay


def _due(now) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def claim(
    *, limit: int, ids=None, appointment_ids=None, destination: str | None = None
) -> tuple[uuid.UUID, list[OutboxEntry]]:
    """Lease up to `limit` due rows to this worker; returns (lease token, rows with their appointment).

    SKIP LOCKED lets concurrent claimers pass each other's rows instead of queueing; the lease
    then keeps the rows this worker's until it finishes or the lease runs out. The attempt is
    counted here, before anything is called.
    """
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        rows = OutboxEntry.objects.filter(_due(now))
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        if appointment_ids is not None:
            rows = rows.filter(appointment_id__in=list(appointment_ids))
        if destination:
            rows = rows.filter(destination=destination)
        picked = list(
            rows.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not picked:
            return token, []
        OutboxEntry.objects.filter(pk__in=picked).update(
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    entries = list(
        OutboxEntry.objects.filter(pk__in=picked, lease_token=token)
        .select_related("appointment__patient", "appointment__practitioner", "appointment__service")
        .order_by("next_attempt_at", "pk")
    )
    return token, entries


def _mine(entry: OutboxEntry, token: uuid.UUID):
    return OutboxEntry.objects.filter(pk=entry.pk, lease_token=token)


def finish_done(entry: OutboxEntry, token: uuid.UUID, *, version: int, result: PushResult) -> bool:
    """Record a successful push of `version`: done, or still pending if a newer version was
    wanted meanwhile (one conditional UPDATE in the usual case, a second in the rare one)."""
    now = timezone.now()
    recorded = {
        "pushed_version": version,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_token": None,
        "lease_until": None,
        "last_error": "",
        "last_success_at": now,
        "dead_at": None,
        "remote_owner_id": result.remote_owner_id,
        "remote_container": result.remote_container,
        "remote_id": result.remote_id,
        "remote_stale": list(result.remote_stale),
        "updated_at": now,
    }
    if _mine(entry, token).filter(wanted_version__lte=version).update(status=OutboxStatus.DONE, **recorded):
        return True
    return bool(_mine(entry, token).update(status=OutboxStatus.PENDING, **recorded))


def finish_retry(entry: OutboxEntry, token: uuid.UUID, *, reason: str, retry_after: float | None = None) -> str:
    """A transient failure: back off, or dead-letter once the retry budget is spent."""
    now = timezone.now()
    if entry.attempts >= settings.INTEGRATIONS_OUTBOX_MAX_ATTEMPTS:
        _mine(entry, token).update(
            status=OutboxStatus.DEAD,
            dead_at=now,
            last_error=f"Gave up after {entry.attempts} attempts: {reason}"[:300],
            lease_token=None,
            lease_until=None,
            updated_at=now,
        )
        logger.warning("Outbox entry %s dead after %s attempts: %s", entry.pk, entry.attempts, reason)
        return "dead"
    delay = backoff_seconds(entry.attempts, retry_after=retry_after)
    _mine(entry, token).update(
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=reason[:300],
        lease_token=None,
        lease_until=None,
        updated_at=now,
    )
    return "retried"


def finish_dead(entry: OutboxEntry, token: uuid.UUID, *, reason: str) -> str:
    now = timezone.now()
    _mine(entry, token).update(
        status=OutboxStatus.DEAD,
        dead_at=now,
        last_error=reason[:300],
        lease_token=None,
        lease_until=None,
        updated_at=now,
    )
    logger.warning("Outbox entry %s dead: %s", entry.pk, reason)
    return "dead"


def finish_blocked(entry: OutboxEntry, token: uuid.UUID, *, reason: str) -> str:
    now = timezone.now()
    _mine(entry, token).update(
        status=OutboxStatus.BLOCKED,
        attempts=0,
        last_error=reason[:300],
        lease_token=None,
        lease_until=None,
        updated_at=now,
    )
    return "blocked"


def push_one(entry: OutboxEntry, token: uuid.UUID, *, cache: dict | None = None, started: float | None = None) -> str:
    """Push one claimed row and record the outcome; returns done/retried/dead/blocked/lost."""
    started = time.monotonic() if started is None else started
    # No call starts unless it can finish (time out) before the lease ends.
    margin = float(settings.INTEGRATIONS_OUTBOX_LEASE_MARGIN_SECONDS)
    ctx = PushContext(
        lease_deadline=started + lease_seconds() - margin,
        cache={} if cache is None else cache,
        entry=entry,
        token=token,
    )
    try:
        destination = destination_for(entry.destination)
        version = entry.appointment.version
        result = destination.push(entry, ctx)
    except LeaseLost:
        logger.info("Outbox entry %s: lease ran out before the push; left to its new holder", entry.pk)
        return "lost"
    except Blocked as outcome:
        return finish_blocked(entry, token, reason=outcome.reason)
    except RetryLater as outcome:
        return finish_retry(entry, token, reason=outcome.reason, retry_after=outcome.retry_after)
    except GiveUp as outcome:
        return finish_dead(entry, token, reason=outcome.reason)
    except DatabaseError as exc:
        return finish_retry(entry, token, reason=f"Database error ({type(exc).__name__})")
    except Exception as exc:
        # A bug, most likely: logged with its traceback, retried within the budget, then dead.
        logger.exception("Outbox entry %s: unexpected error", entry.pk)
        return finish_retry(entry, token, reason=f"Unexpected error ({type(exc).__name__})")
    if not finish_done(entry, token, version=version, result=result):
        return "lost"
    return "done"


def pending_left(*, ids=None, appointment_ids=None) -> tuple[int, float | None]:
    """(pending rows, seconds until the soonest becomes due) among the rows asked about."""
    rows = OutboxEntry.objects.filter(status=OutboxStatus.PENDING)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if appointment_ids is not None:
        rows = rows.filter(appointment_id__in=list(appointment_ids))
    now = timezone.now()
    soonest = None
    count = 0
    for next_attempt_at, lease_until in rows.values_list("next_attempt_at", "lease_until"):
        count += 1
        due = max(next_attempt_at, lease_until or next_attempt_at)
        wait = max(0.0, (due - now).total_seconds())
        soonest = wait if soonest is None else min(soonest, wait)
    return count, soonest


def _work(
    report: DrainReport, *, batch_size, ids, appointment_ids, destination, deadline, until_settled, poll_seconds
) -> None:
    while deadline is None or time.monotonic() < deadline:
        token, entries = claim(limit=batch_size, ids=ids, appointment_ids=appointment_ids, destination=destination)
        if not entries:
            if not until_settled:
                return
            left, wait = pending_left(ids=ids, appointment_ids=appointment_ids)
            if not left:
                return
            time.sleep(min(poll_seconds, wait if wait is not None else poll_seconds) + 0.01)
            continue
        started = time.monotonic()
        cache: dict = {}  # per batch: what the pushes share is never older than the batch
        _prepare(entries, cache)
        for entry in entries:
            report.count("claimed")
            report.count(push_one(entry, token, cache=cache, started=started))


def _prepare(entries: list[OutboxEntry], cache: dict) -> None:
    by_destination: dict[str, list] = {}
    for entry in entries:
        by_destination.setdefault(entry.destination, []).append(entry)
    for key, group in by_destination.items():
        try:
            destination_for(key).prepare(group, cache)
        except GiveUp:
            continue  # no such destination: each push dead-letters itself with the reason
        except DatabaseError:
            logger.exception("Preparing a batch for %s failed; its pushes load what they need", key)


def drain(
    *,
    workers: int = 1,
    batch_size: int = 20,
    ids=None,
    appointment_ids=None,
    destination: str | None = None,
    max_seconds: float | None = None,
    until_settled: bool = False,
    poll_seconds: float = 1.0,
) -> DrainReport:
    """Push due rows until none is due (or, with `until_settled`, until none is pending at all).

    With `workers` > 1, that many threads claim and push side by side, each with its own
    database connection and Google clients (httplib2 is not thread-safe). One worker runs in
    the calling thread.
    """
    report = DrainReport()
    deadline = time.monotonic() + max_seconds if max_seconds else None
    options = {
        "batch_size": batch_size,
        "ids": list(ids) if ids is not None else None,
        "appointment_ids": list(appointment_ids) if appointment_ids is not None else None,
        "destination": destination,
        "deadline": deadline,
        "until_settled": until_settled,
        "poll_seconds": poll_seconds,
    }
    # Inside a transaction other threads could not see its uncommitted rows: work in this one.
    if workers <= 1 or connection.in_atomic_block:
        _work(report, **options)
    else:

        def run():
            try:
                _work(report, **options)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, name=f"outbox-drain-{n}", daemon=True) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for key in destinations():
        try:
            destination_for(key).after_drain()
        except Exception:
            logger.exception("After-drain step of %s failed", key)
    return report
