"""The letter page: staff write to a patient; the letter goes by email like appointment emails,
once, and only a content-free record of it stays."""

import re

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from integrations import services
from integrations.choices import EmailKind, EmailStatus
from integrations.models import EmailDelivery, OutgoingEmail
from privacy.models import AuditEntry
from tests.integrations.factories import PATIENT_EMAIL
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

BODY = "Please keep doing the exercises twice a day. LETTER-CANARY"


def letter_url(patient) -> str:
    return reverse("integrations:letter", kwargs={"patient_pk": patient.pk})


def token_on(page) -> str:
    return re.search(r'name="token" value="([0-9a-f-]+)"', page.content.decode()).group(1)


def send(client, patient, **fields):
    page = client.get(letter_url(patient))
    assert page.status_code == 200
    data = {"subject": "Your exercises", "body": BODY, "token": token_on(page), **fields}
    return client.post(letter_url(patient), data), data


def test_a_receptionist_sends_a_letter_that_is_emailed_once_and_not_kept(
    client_for, rita_receptionist, john, committed
):
    client = client_for(rita_receptionist)
    with committed():
        response, data = send(client, john)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", kwargs={"pk": john.pk})

    (message,) = django_mail.outbox  # Rita has no Gmail and the clinic none: the mail server
    assert message.to == [PATIENT_EMAIL]
    assert message.subject == "Your exercises"
    assert "Dear John," in message.body and BODY in message.body
    delivery = EmailDelivery.objects.get(patient=john)
    assert (delivery.kind, delivery.status, delivery.from_staff) == (
        EmailKind.LETTER,
        EmailStatus.SENT,
        rita_receptionist,
    )
    assert not OutgoingEmail.objects.exists()  # the words are gone once sent

    with committed():  # the same form again (a double click, a resubmitted page)
        assert client.post(letter_url(john), data).status_code == 302
    assert EmailDelivery.objects.filter(patient=john).count() == 1
    assert len(django_mail.outbox) == 1


def test_sending_a_letter_is_audited_without_its_words(client_for, alice_practitioner, john, committed):
    with committed():
        send(client_for(alice_practitioner), john)
    entry = AuditEntry.objects.get(object_type="integrations.emaildelivery")
    assert (entry.actor, entry.patient, entry.action) == (alice_practitioner, john, "create")
    assert entry.details == {"kind": "letter", "status": EmailStatus.PENDING}
    assert "LETTER-CANARY" not in str(AuditEntry.objects.values_list("details", "reason", "purpose"))


def test_a_patient_who_cannot_be_emailed_is_told_before_and_after(client_for, rita_receptionist, clinic):
    no_address = PatientFactory(organisation=clinic, given_name="Mary", email="")
    client = client_for(rita_receptionist)

    page = client.get(letter_url(no_address))
    assert "This letter cannot be emailed: The patient has no email address." in page.content.decode()

    response, _ = send(client, no_address)
    delivery = EmailDelivery.objects.get(patient=no_address)
    assert (delivery.status, delivery.skip_reason) == (EmailStatus.SKIPPED, "The patient has no email address.")
    assert not OutgoingEmail.objects.exists()
    followed = client.get(response["Location"])
    assert "The letter was not sent: The patient has no email address." in followed.content.decode()


@pytest.mark.parametrize(
    ("fields", "field_in_error"),
    [
        ({"subject": ""}, "subject"),
        ({"body": "   "}, "body"),
        ({"subject": "x" * 151}, "subject"),
        ({"token": "not-a-token"}, "token"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_is_recorded(
    client_for, rita_receptionist, john, fields, field_in_error
):
    response, _ = send(client_for(rita_receptionist), john, **fields)
    assert response.status_code == 400
    assert field_in_error in response.context["form"].errors
    assert not EmailDelivery.objects.exists()


def test_another_clinics_patient_cannot_be_written_to(client_for, oscar_other_practitioner, john):
    client = client_for(oscar_other_practitioner)
    assert client.get(letter_url(john)).status_code == 404
    post = client.post(
        letter_url(john), {"subject": "Hi", "body": "Hello", "token": "3f2b6f0e-1d0c-4c39-9f38-0c5f0b7f1a11"}
    )
    assert post.status_code == 404
    assert not EmailDelivery.objects.exists()


def test_the_patient_page_links_to_the_letter_page(client_for, rita_receptionist, john):
    page = client_for(rita_receptionist).get(reverse("patients:detail", kwargs={"pk": john.pk}))
    assert letter_url(john) in page.content.decode()


def test_the_service_keeps_the_words_only_until_sent(alice_practitioner, john, committed):
    with committed():
        delivery = services.letter_send(
            actor=alice_practitioner, patient=john, subject="S", body="B", idempotency_key="k1"
        )
    assert delivery.status == EmailStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.status == EmailStatus.SENT
    assert not OutgoingEmail.objects.filter(delivery=delivery).exists()
