"""The Celery app. Settings come from Django's (CELERY_* names); see jelly/settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jelly.settings")

app = Celery("jelly")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
