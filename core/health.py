"""Liveness of what the web process depends on: the database and the Celery broker."""

from django.conf import settings
from django.db import connection

from jelly.celery import app as celery_app


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "down"; the details go to the log, not the client
        return "unavailable"
    return "ok"


def broker_state() -> str:
    if not settings.CELERY_BROKER_URL:
        return "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception:
        return "unavailable"
    return "ok"
