"""Celery is configured for at-least-once delivery; secrets never reach the logs."""

import logging

import pytest
from django.conf import settings

from jelly.celery import app as celery_app


def test_celery_acknowledges_late_and_redelivers_work_lost_with_a_worker():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    # Redis redelivers unacknowledged tasks after the visibility timeout: it must outlast any task.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.timezone == "Europe/London"


def test_tasks_run_eagerly_in_tests_but_the_broker_is_real_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert celery_app.conf.task_always_eager is True


@pytest.mark.django_db
def test_a_failed_sign_in_logs_no_password(client, alice_practitioner, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/accounts/login/", {"username": alice_practitioner.email, "password": "Sup3r-secret-attempt"})
    assert "Sup3r-secret-attempt" not in caplog.text


@pytest.mark.django_db
def test_a_bad_api_token_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token jly_not-a-real-token-value")
    assert response.status_code == 401
    assert "jly_not-a-real-token-value" not in caplog.text
    assert "jly_not-a-real-token-value" not in response.content.decode()


@pytest.mark.django_db
def test_a_valid_api_token_is_never_logged(api_client_for, alice_practitioner, caplog):
    from core.services import api_token_create

    caplog.set_level(logging.DEBUG)
    _, key = api_token_create(staff=alice_practitioner)
    api_client_for(alice_practitioner)  # another token, to exercise creation logging too
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 200
    assert client.get("/api/v1/no-such-route/").status_code == 404
    assert key not in caplog.text
