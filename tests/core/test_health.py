"""/healthz: the load balancer's view of the web process (database and Celery broker)."""

import pytest
from django.db import OperationalError

from core import health
from jelly.celery import app as celery_app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


class BrokenConnection:
    """Stands in for `django.db.connection` while PostgreSQL is unreachable."""

    def cursor(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def test_healthy_when_database_and_real_broker_answer(client, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_needs_no_sign_in_and_no_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_broker_is_eager_when_none_is_configured(client, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.fixture
def unreachable_broker(settings, monkeypatch):
    """Point Django and the Celery app at a port nothing listens on; restored afterwards.

    Celery prefers the CELERY_BROKER_URL environment variable (set by the test settings) over
    its own configuration, so both are changed.
    """
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE_BROKER)
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = UNREACHABLE_BROKER
    yield
    celery_app.conf.broker_url = original


def test_unreachable_broker_degrades_but_keeps_serving(client, unreachable_broker):
    assert celery_app.conf.broker_url == UNREACHABLE_BROKER

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "unavailable"}


def test_unreachable_database_is_503_without_details(client, monkeypatch):
    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "broker": "ok"}
    body = response.content.decode()
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "5432" not in body


def test_database_state_reports_ok_against_the_real_database():
    assert health.database_state() == "ok"
