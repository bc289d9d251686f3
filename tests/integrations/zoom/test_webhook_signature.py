"""Zoom's webhook signature, checked against the worked test vector in API_NOTES E.5."""

import pytest

from integrations.zoom.webhooks import WebhookRejected, signature_for, url_validation_answer, verify_signature

SECRET = "test_secret_token"
TIMESTAMP = "1700000000"
BODY = (
    b'{"event":"meeting.deleted","payload":{"account_id":"acc123","object":{"id":85746065432,'
    b'"uuid":"abc==","host_id":"h1","type":2}},"event_ts":1700000000123}'
)
SIGNATURE = "v0=eb9ebc75047871161657700e3b93bd771aa7624d7426be13512ddd412d26cebd"


def test_the_signature_of_the_worked_example_is_zooms():
    assert signature_for(secret=SECRET, timestamp=TIMESTAMP, raw_body=BODY) == SIGNATURE


def test_the_url_validation_answer_of_the_worked_example_is_zooms():
    assert url_validation_answer(plain_token="qgg8vlvZRS6UYooatFL8Aw", secret=SECRET) == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "4efea922935c335d972476de138d2208a0d46ab28c79ee592d497a1b216419b8",
    }


def test_the_worked_example_verifies_within_five_minutes_of_its_timestamp():
    verify_signature(raw_body=BODY, timestamp=TIMESTAMP, signature=SIGNATURE, secret=SECRET, now=1700000000 + 299)


@pytest.mark.parametrize("now", [1700000000 + 301, 1700000000 - 301], ids=["stale", "from-the-future"])
def test_a_timestamp_more_than_five_minutes_away_is_refused(now):
    with pytest.raises(WebhookRejected) as refused:
        verify_signature(raw_body=BODY, timestamp=TIMESTAMP, signature=SIGNATURE, secret=SECRET, now=now)
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("body", "timestamp", "signature", "secret"),
    [
        (BODY.replace(b"85746065432", b"85746065433"), TIMESTAMP, SIGNATURE, SECRET),
        (BODY, TIMESTAMP, SIGNATURE, "another_secret"),
        (BODY, "1700000001", SIGNATURE, SECRET),
        (BODY, TIMESTAMP, SIGNATURE.replace("v0=", "v1="), SECRET),
        (BODY, TIMESTAMP, SIGNATURE[:-1], SECRET),
        (BODY, TIMESTAMP, "", SECRET),
        (BODY, "", SIGNATURE, SECRET),
        (BODY, "17000000OO", SIGNATURE, SECRET),
        (BODY, TIMESTAMP, SIGNATURE, ""),
    ],
    ids=[
        "tampered-body",
        "wrong-secret",
        "other-timestamp",
        "wrong-version",
        "truncated",
        "no-signature",
        "no-timestamp",
        "timestamp-not-a-number",
        "no-secret-configured",
    ],
)
def test_anything_else_is_refused(body, timestamp, signature, secret):
    with pytest.raises(WebhookRejected) as refused:
        verify_signature(raw_body=body, timestamp=timestamp, signature=signature, secret=secret, now=1700000000)
    assert refused.value.status == 401


def test_the_raw_bytes_are_signed_not_a_reserialisation():
    spaced = BODY.replace(b'"event":', b'"event": ')
    with pytest.raises(WebhookRejected):
        verify_signature(raw_body=spaced, timestamp=TIMESTAMP, signature=SIGNATURE, secret=SECRET, now=1700000000)
