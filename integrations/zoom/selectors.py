"""Reads of the Zoom integration, scoped to the reader's organisation."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from core.models import Staff
from integrations.zoom.choices import DeliveryStatus
from integrations.zoom.models import ZoomAuditEntry, ZoomConnection, ZoomWebhookDelivery


def connection_visible_to(user) -> ZoomConnection | None:
    return ZoomConnection.objects.visible_to(user).select_related("connected_by").first()


def staff_with_zoom_links(user) -> QuerySet[Staff]:
    """Active staff of the user's organisation, each with its Zoom link (or None)."""
    return (
        Staff.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("zoom_user_link")
        .order_by("family_name", "given_name", "email")
    )


def staff_without_zoom_user(user) -> QuerySet[Staff]:
    return staff_with_zoom_links(user).filter(zoom_user_link__isnull=True)


def audit_entries_visible_to(user) -> QuerySet[ZoomAuditEntry]:
    return ZoomAuditEntry.objects.visible_to(user).select_related("meeting").order_by("-occurred_at", "-id")


def webhook_deliveries_stuck(*, older_than: timedelta, max_attempts: int) -> list[int]:
    """Deliveries recorded but not applied (a lost task, a failed attempt), oldest first."""
    return list(
        ZoomWebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED],
            attempts__lt=max_attempts,
            received_at__lt=timezone.now() - older_than,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
