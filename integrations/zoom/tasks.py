"""Celery entry points of the Zoom integration: take ids, call a service."""

import logging
import random
from datetime import timedelta

from celery import shared_task
from django.db import OperationalError

from integrations.zoom import selectors, services

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=services.MAX_DELIVERY_ATTEMPTS)
def process_webhook_delivery(self, delivery_id: int) -> str | None:
    """Apply one recorded webhook delivery. Safe to run twice: the service claims the row."""
    try:
        return services.webhook_delivery_process(delivery_id=delivery_id)
    except OperationalError as exc:
        # Deadlock, lost connection: worth another go, later, a bounded number of times.
        services.webhook_delivery_mark_failed(delivery_id=delivery_id, error=exc)
        countdown = min(300, 5 * 2**self.request.retries) + random.uniform(0, 5)  # noqa: S311 (jitter)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:
        # A bug or a payload we cannot use: retrying cannot help. Left failed, visible in admin.
        services.webhook_delivery_mark_failed(delivery_id=delivery_id, error=exc)
        logger.exception("Zoom webhook delivery %s failed", delivery_id)
        return None


@shared_task
def sweep_webhook_deliveries() -> None:
    """Periodic (beat): re-queue deliveries whose task was lost or failed, and prune the ledger."""
    stuck = selectors.webhook_deliveries_stuck(
        older_than=timedelta(minutes=5), max_attempts=services.MAX_DELIVERY_ATTEMPTS
    )
    for delivery_id in stuck:
        process_webhook_delivery.delay(delivery_id)
    services.webhook_deliveries_prune(older_than=timedelta(days=30))


@shared_task
def notify_practitioner_meeting_deleted(appointment_id: str) -> bool:
    """After commit of a cancellation caused by a meeting deleted in Zoom."""
    return services.practitioner_notify_meeting_deleted(appointment_id=appointment_id)


@shared_task
def reconcile_zoom_meetings(organisation_id: str | None = None) -> int:
    """After a (re)connect or auto-create switched on for one organisation; periodically (beat)
    for all: re-mark Zoom rows whose meetings are not as Jelly's records say they should be."""
    from core.models import Organisation

    organisation = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    if organisation_id and organisation is None:
        return 0
    return services.zoom_meetings_reconcile(organisation=organisation)
