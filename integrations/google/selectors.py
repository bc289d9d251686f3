"""Reads for Google connections."""

from core.models import Staff
from integrations.google.models import GoogleConnection


def google_connection_of(staff: Staff) -> GoogleConnection | None:
    """The staff member's own connection, if they ever connected (any status)."""
    return GoogleConnection.objects.visible_to(staff).select_related("staff").filter(staff=staff).first()
