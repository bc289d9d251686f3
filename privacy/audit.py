"""The audit chain: who is acting (`AuditContext`), how an entry is hashed, and how a chain is
verified. Entries are written only by `privacy.services.audit_entry_record`.

An entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of its
fields and the previous entry's hash. Sequence numbers run 1, 2, 3... per organisation, and the
chain head row holds the last one, so a changed, deleted, inserted or truncated entry shows up
as the first broken link.
"""

import hashlib
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, models

from core.db import insert
from privacy.models import GENESIS_HASH, AuditChainHead, AuditEntry

VERIFY_CHUNK_SIZE = 2000
# Statements one audit entry costs once the organisation's chain exists (claim the sequence,
# insert; a trigger moves the head's hash with the insert); an organisation's very first entry
# adds one to create the head.
AUDIT_WRITE_QUERIES = 2


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, and from which address; `purpose` and `reason` say why, where it matters
    (a break-glass reason, a subject access request). Build one per request with
    `audit_context(request)`; `AuditContext(actor=None)` is the system (imports, the demo)."""

    actor: Any = None
    ip_address: str = ""
    purpose: str = ""
    reason: str = ""

    def but(self, **changes) -> "AuditContext":
        return AuditContext(**{**self.__dict__, **changes})


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or, only when AXES_PROXY_COUNT says that many trusted
    proxies stand in front of Jelly, the address that many hops from the right of
    X-Forwarded-For (anything further left was written by the client and is not trusted)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return normalised_ip(address)


def normalised_ip(address: str) -> str:
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return ""


def audit_context(request, *, purpose: str = "", reason: str = "") -> AuditContext:
    user = request.user if request.user.is_authenticated else None
    return AuditContext(actor=user, ip_address=client_ip(request), purpose=purpose, reason=reason)


def hash_input(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers, as JSON-ready values."""
    return {
        "organisation": str(entry.organisation_id),
        "sequence": entry.sequence,
        "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": str(entry.actor_id) if entry.actor_id else None,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "patient": str(entry.patient_id) if entry.patient_id else None,
        "ip_address": entry.ip_address,
        "purpose": entry.purpose,
        "reason": entry.reason,
        "details": entry.details,
        "previous_hash": entry.previous_hash,
    }


def canonical_json(values: Mapping[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical_json(hash_input(entry))).hexdigest()


# Locks the organisation's chain head (an UPDATE takes the row lock and waits for a concurrent
# writer to commit) and claims the next sequence number, in one statement. RETURNING gives the
# locked row's latest `last_hash`, which a separate SELECT would also see (READ COMMITTED) but a
# subquery in this statement would not. PostgreSQL and SQLite (3.35+) both accept it.
CLAIM_NEXT_SEQUENCE = """
    UPDATE privacy_auditchainhead SET sequence = sequence + 1
    WHERE organisation_id = %s
    RETURNING sequence, last_hash
"""
# Only an organisation's first entry creates its head; two first entries at once still queue
# on the conflict, so the second gets sequence 2.
START_CHAIN = """
    INSERT INTO privacy_auditchainhead (organisation_id, sequence, last_hash)
    VALUES (%s, 1, %s)
    ON CONFLICT (organisation_id)
    DO UPDATE SET sequence = privacy_auditchainhead.sequence + 1
    RETURNING sequence, last_hash
"""


def append_entry(entry: AuditEntry) -> AuditEntry:
    """Chain and insert `entry` (every field but sequence and hashes set). Call it inside a
    transaction: the organisation's chain head stays locked until that transaction ends, so
    concurrent writers queue and the chain never forks.

    Two statements: claim the next sequence (an UPDATE that locks the head; the very first
    entry of an organisation creates the head instead) and insert the entry, whose trigger
    (migration privacy 0004) moves the head's hash to it. The benchmark
    (bench/audit_overhead.py) swaps this function out to measure what auditing costs.
    """
    organisation_id = AuditChainHead._meta.pk.get_db_prep_value(entry.organisation_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_NEXT_SEQUENCE, [organisation_id])
        claimed = cursor.fetchone()
        if claimed is None:
            cursor.execute(START_CHAIN, [organisation_id, GENESIS_HASH])
            claimed = cursor.fetchone()
    entry.sequence, entry.previous_hash = claimed
    entry.entry_hash = entry_hash(entry)
    insert(entry)
    return entry


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.sequence}" + (f" (id {self.entry_id})" if self.entry_id is not None else "")
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    organisation_slug: str
    entries_checked: int
    first_broken_link: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.first_broken_link is None


def _entries_in_order(organisation) -> Iterator[AuditEntry]:
    return AuditEntry.objects.for_organisation(organisation).order_by("sequence").iterator(chunk_size=VERIFY_CHUNK_SIZE)


def verify_chain(organisation) -> ChainReport:
    """Walk an organisation's chain from the start; report the first link that does not hold."""
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0

    def broken(sequence, entry_id, problem) -> ChainReport:
        return ChainReport(organisation.slug, checked, BrokenLink(sequence, entry_id, problem))

    for entry in _entries_in_order(organisation):
        if entry.sequence != expected_sequence:
            return broken(expected_sequence, entry.pk, f"missing; the next entry is #{entry.sequence}")
        if entry.previous_hash != previous_hash:
            return broken(entry.sequence, entry.pk, "its previous hash does not match the entry before it")
        if entry_hash(entry) != entry.entry_hash:
            return broken(entry.sequence, entry.pk, "its contents do not match its hash (changed after writing)")
        previous_hash, expected_sequence = entry.entry_hash, expected_sequence + 1
        checked += 1

    head = AuditChainHead.objects.filter(organisation=organisation).first()
    last_sequence = expected_sequence - 1
    if head is not None and (head.sequence, head.last_hash) != (last_sequence, previous_hash):
        if head.sequence > last_sequence:
            return broken(last_sequence + 1, None, f"missing; the chain head says the last entry is #{head.sequence}")
        return broken(last_sequence, None, "the chain head does not match the last entry")
    if head is None and checked:
        return broken(last_sequence, None, "the organisation has entries but no chain head")
    return ChainReport(organisation.slug, checked, None)


@dataclass(frozen=True)
class Anchor:
    """Where an organisation's chain ended at one moment: kept outside the database (the
    operator's store, the log stream), it shows up a chain rewritten end to end by someone who
    could write the database, which the chain alone cannot (they could recompute every hash)."""

    organisation_slug: str
    sequence: int
    entry_hash: str

    def to_json(self) -> str:
        return json.dumps(
            {"organisation": self.organisation_slug, "sequence": self.sequence, "entry_hash": self.entry_hash},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> "Anchor":
        """One line of `audit_anchor`'s output; ValueError if it is not one."""
        try:
            values = json.loads(line)
            anchor = cls(str(values["organisation"]), int(values["sequence"]), str(values["entry_hash"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not an audit anchor: {line.strip()[:200]!r}") from exc
        if anchor.sequence < 0 or len(anchor.entry_hash) != 64:
            raise ValueError(f"Not an audit anchor: {line.strip()[:200]!r}")
        return anchor


def current_anchors(organisations) -> list[Anchor]:
    """Each organisation's chain head now (organisations with no entries yet have none)."""
    heads = AuditChainHead.objects.filter(organisation__in=organisations, sequence__gt=0)
    return [
        Anchor(slug, sequence, last_hash)
        for slug, sequence, last_hash in heads.order_by("organisation__slug").values_list(
            "organisation__slug", "sequence", "last_hash"
        )
    ]


def anchor_problem(organisation, anchor: Anchor) -> str | None:
    """Why the organisation's chain does not hold `anchor` (its entry at that sequence, with that
    hash), or None if it does. With `verify_chain` intact, every entry up to the anchor is then
    as it was when the anchor was taken."""
    found = (
        AuditEntry.objects.for_organisation(organisation)
        .filter(sequence=anchor.sequence)
        .values_list("entry_hash", flat=True)
        .first()
    )
    if found is None:
        return f"entry #{anchor.sequence}, anchored, is missing"
    if found != anchor.entry_hash:
        return f"entry #{anchor.sequence} is not the entry anchored (its hash differs): the chain was rewritten"
    return None


def object_label(obj: models.Model) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)
