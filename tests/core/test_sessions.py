"""Idle timeout: a session lives 30 minutes past its last request, then signs the user out."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db


def the_only_session() -> Session:
    return Session.objects.get()


def test_idle_timeout_is_thirty_minutes_renewed_by_every_request(settings):
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_a_signed_in_session_reaches_pages(client_for, alice_practitioner):
    assert client_for(alice_practitioner).get("/").status_code == 200


def test_each_request_pushes_the_expiry_thirty_minutes_ahead(client_for, alice_practitioner):
    browser = client_for(alice_practitioner)
    session = the_only_session()
    session.expire_date = timezone.now() + timedelta(minutes=2)
    session.save()

    before = timezone.now()
    assert browser.get("/").status_code == 200

    renewed = the_only_session().expire_date
    assert before + timedelta(minutes=29) < renewed <= timezone.now() + timedelta(minutes=30)


def test_an_idle_session_past_its_expiry_is_sent_to_the_login_page(client_for, alice_practitioner):
    browser = client_for(alice_practitioner)
    session = the_only_session()
    session.expire_date = timezone.now() - timedelta(seconds=1)
    session.save()

    response = browser.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_an_expired_session_no_longer_reaches_the_api(client_for, alice_practitioner):
    browser = client_for(alice_practitioner)
    assert browser.get("/api/v1/me/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))

    response = browser.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["detail"]
