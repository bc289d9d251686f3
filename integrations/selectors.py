"""Reads for the integrations engine: settings, and what the sync-health page shows whom.

Admins see their whole organisation; practitioners see only their own appointments' rows and
their own Google connection.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet

from core.choices import Role
from core.db import Lookup, get_one
from core.models import Staff
from integrations.choices import EmailStatus, OutboxStatus
from integrations.google.choices import ConnectionStatus
from integrations.google.models import GoogleConnection
from integrations.models import EmailDelivery, EmailTemplate, IntegrationSettings, OutboxEntry


def integration_settings_for(organisation_id, cache: dict | None = None) -> IntegrationSettings:
    """The organisation's settings, or unsaved defaults while it has none (reads never write)."""
    key = _settings_key(organisation_id)
    if cache is not None and key in cache:
        return cache[key]
    found = get_one(integration_settings_lookup(organisation_id))
    if cache is not None:
        remember_integration_settings(cache, organisation_id, found)
    return found or IntegrationSettings(organisation_id=organisation_id)


def integration_settings_lookup(organisation_id) -> Lookup:
    """The organisation's settings row, for reading together with other rows (`core.db.get_each`)."""
    return Lookup(IntegrationSettings, {"organisation_id": organisation_id})


def remember_integration_settings(cache: dict, organisation_id, found: IntegrationSettings | None) -> None:
    """Keep what `integration_settings_for` would answer, from a row read ahead (or None)."""
    cache[_settings_key(organisation_id)] = found or IntegrationSettings(organisation_id=organisation_id)


def _settings_key(organisation_id) -> tuple[str, str]:
    return ("integration_settings", str(organisation_id))


def email_templates_for(organisation_id) -> dict[str, EmailTemplate]:
    return {template.kind: template for template in EmailTemplate.objects.filter(organisation_id=organisation_id)}


def _sees_everything(user) -> bool:
    return user.has_role(Role.ADMIN)


def outbox_entries_visible_to(user) -> QuerySet[OutboxEntry]:
    """Admins: every row of their organisation. Practitioners: rows of their own appointments,
    or whose pushed copy is in their calendar. Others: none."""
    rows = OutboxEntry.objects.visible_to(user)
    if _sees_everything(user):
        return rows
    if user.has_role(Role.PRACTITIONER):
        return rows.filter(Q(appointment__practitioner=user) | Q(remote_owner=user))
    return rows.none()


def email_deliveries_visible_to(user) -> QuerySet[EmailDelivery]:
    rows = EmailDelivery.objects.visible_to(user)
    if _sees_everything(user):
        return rows
    if user.has_role(Role.PRACTITIONER):
        return rows.filter(Q(appointment__practitioner=user) | Q(from_staff=user))
    return rows.none()


def google_connections_visible_to(user) -> QuerySet[GoogleConnection]:
    rows = GoogleConnection.objects.visible_to(user).select_related("staff")
    return rows if _sees_everything(user) else rows.filter(staff=user)


@dataclass
class PractitionerSync:
    staff: Staff
    connection: GoogleConnection | None
    last_success_at: datetime | None = None
    pending: int = 0
    blocked: int = 0
    failed: int = 0


@dataclass
class SyncHealth:
    rows: list[PractitionerSync] = field(default_factory=list)
    failed_entries: list[OutboxEntry] = field(default_factory=list)
    failed_emails: list[EmailDelivery] = field(default_factory=list)
    broken_connections: list[GoogleConnection] = field(default_factory=list)


FAILED_LIST_LIMIT = 100


def sync_health(user) -> SyncHealth:
    """Per practitioner: connection, last success, pending, blocked and failed counts; then the
    failed rows with their reasons. A fixed number of queries whatever the size of the clinic."""
    entries = outbox_entries_visible_to(user)
    if _sees_everything(user):
        staff = list(Staff.objects.visible_to(user).filter(role__in=[Role.PRACTITIONER, Role.ADMIN], is_active=True))
    else:
        staff = [user]
    connections = {c.staff_id: c for c in google_connections_visible_to(user)}
    per_staff = {
        row["appointment__practitioner"]: row
        for row in entries.values("appointment__practitioner").annotate(
            last_success_at=Max("last_success_at"),
            pending=Count("id", filter=Q(status=OutboxStatus.PENDING)),
            blocked=Count("id", filter=Q(status=OutboxStatus.BLOCKED)),
            failed=Count("id", filter=Q(status=OutboxStatus.DEAD)),
        )
    }
    health = SyncHealth()
    for member in staff:
        counts = per_staff.get(member.pk, {})
        connection = connections.get(member.pk)
        if connection is None and not counts and member.role != Role.PRACTITIONER:
            continue
        health.rows.append(
            PractitionerSync(
                staff=member,
                connection=connection,
                last_success_at=counts.get("last_success_at"),
                pending=counts.get("pending", 0),
                blocked=counts.get("blocked", 0),
                failed=counts.get("failed", 0),
            )
        )
    health.failed_entries = list(
        entries.filter(status__in=[OutboxStatus.DEAD, OutboxStatus.BLOCKED])
        .select_related("appointment__practitioner", "appointment__service")
        .order_by("-updated_at")[:FAILED_LIST_LIMIT]
    )
    health.failed_emails = list(
        email_deliveries_visible_to(user)
        .filter(status=EmailStatus.DEAD)
        .select_related("appointment__practitioner")
        .order_by("-created_at")[:FAILED_LIST_LIMIT]
    )
    health.broken_connections = [c for c in connections.values() if c.status == ConnectionStatus.BROKEN]
    return health


@dataclass(frozen=True)
class Banner:
    own_broken: GoogleConnection | None
    broken_others: list[GoogleConnection]
    failed: int

    def __bool__(self) -> bool:
        return bool(self.own_broken or self.broken_others or self.failed)


def sync_banner(user) -> Banner:
    """What the sync banner shows: the user's own broken connection; for admins, everyone's
    broken connections and the number of failed rows. At most two queries."""
    if not user.is_authenticated or not user.has_role(Role.ADMIN, Role.PRACTITIONER):
        return Banner(None, [], 0)
    connections = list(google_connections_visible_to(user).filter(status=ConnectionStatus.BROKEN))
    own = next((c for c in connections if c.staff_id == user.pk), None)
    others = [c for c in connections if c.staff_id != user.pk]
    failed = outbox_entries_visible_to(user).filter(status=OutboxStatus.DEAD).count() if _sees_everything(user) else 0
    return Banner(own, others, failed)
