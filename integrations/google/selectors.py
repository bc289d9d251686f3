"""Reads for Google connections."""

from core.db import row_exists
from core.models import Staff
from integrations.google.choices import ConnectionStatus
from integrations.google.models import GoogleConnection


def google_connection_of(staff: Staff) -> GoogleConnection | None:
    """The staff member's own connection, if they ever connected (any status)."""
    return GoogleConnection.objects.visible_to(staff).select_related("staff").filter(staff=staff).first()


def has_google(staff_id, cache: dict | None = None) -> bool:
    """Whether the staff member has connected Google and not disconnected (a broken connection
    counts: its rows wait for the reconnect). Answered from `cache` if it was read ahead
    (`remember_has_google`)."""
    key = _has_google_key(staff_id)
    if cache is not None and key in cache:
        return cache[key]
    return row_exists(GoogleConnection, {"staff_id": staff_id}, unless={"status": ConnectionStatus.DISCONNECTED})


def remember_has_google(cache: dict, staff_id, connection: GoogleConnection | None) -> None:
    """Keep what `has_google` would answer, from a connection row read ahead (or None)."""
    cache[_has_google_key(staff_id)] = connection is not None and connection.status != ConnectionStatus.DISCONNECTED


def _has_google_key(staff_id) -> tuple[str, str]:
    return ("has_google", str(staff_id))
