"""Celery entry points of the integrations engine: take ids, call the engine or a service.

Every task is safe to run twice (rows are claimed with a lease; email records are unique) and
is queued only after the transaction that made the work has committed.
"""

from celery import shared_task
from django.conf import settings

from integrations import outbox, services


@shared_task(acks_late=True)
def drain_outbox(entry_ids=None, appointment_ids=None) -> dict:
    """Push the given rows (or, with no ids, everything due) to their destinations."""
    targeted = entry_ids is not None or appointment_ids is not None
    report = outbox.drain(
        workers=1 if targeted else settings.INTEGRATIONS_DRAIN_WORKERS,
        ids=entry_ids,
        appointment_ids=appointment_ids,
        max_seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT - 30,
    )
    return report.as_dict()


@shared_task(acks_late=True)
def send_emails(delivery_ids=None) -> dict:
    return services.emails_drain(ids=delivery_ids, max_seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT - 30)


@shared_task
def sweep_outbox() -> dict:
    """Periodic (beat): anything a lost task message, a dead worker or a backoff left behind."""
    return services.outbox_sweep(max_seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT - 30)


@shared_task
def reconcile_google_calendar(staff_ids=None) -> str:
    """After a (re)connect or a disconnect request for `staff_ids`; nightly (beat) for everyone."""
    report = services.google_calendar_reconcile(staff_ids=staff_ids)
    return str(report)


@shared_task
def send_due_reminders() -> int:
    """Periodic (beat): record the reminders now due; they are sent after commit."""
    return services.reminders_enqueue_due()


@shared_task
def notify_google_connection_broken(connection_id: str) -> bool:
    return services.google_connection_broken_notify(connection_id=connection_id)
