"""Patient pages: list and search-as-you-type, detail, create/edit with inline errors, archive."""

import pytest
from django.urls import reverse

from patients.choices import NoteStatus
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, Patient
from tests.patients.factories import ClinicalNoteFactory, ContactFactory, PatientFactory

FORM = {
    "given_name": "Mary",
    "family_name": "Jones",
    "preferred_name": "",
    "date_of_birth": "14/07/1961",
    "gender": "female",
    "nhs_number": "943 476 5919",
    "email": "",
    "phone": "01225 123456",
    "address_line1": "",
    "address_line2": "",
    "town": "",
    "postcode": "ba1 1aa",
    "registered_gp_practice": "",
    "date_of_death": "",
}


def test_the_list_shows_our_patients_only(client_for, rita_receptionist, patient, foreign_patient):
    response = client_for(rita_receptionist).get(reverse("patients:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "SMITH" in page
    assert "FOREIGN-CANARY" not in page
    assert 'hx-get="/patients/search/"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page


def test_search_works_without_javascript(client_for, rita_receptionist, patient, clinic):
    PatientFactory(organisation=clinic, given_name="Anne", family_name="Other")

    page = client_for(rita_receptionist).get(reverse("patients:list"), {"q": "Jonh Smiht"}).content.decode()

    assert "SMITH" in page
    assert "OTHER" not in page


def test_the_results_partial_is_just_the_table(client_for, rita_receptionist, patient):
    response = client_for(rita_receptionist).get(
        reverse("patients:search"), {"q": "943 476 5919"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "SMITH" in response.content.decode()


def test_archived_patients_are_hidden_unless_asked_for(client_for, rita_receptionist, clinic):
    PatientFactory(organisation=clinic, family_name="Archived", archived=True)
    client = client_for(rita_receptionist)

    assert "ARCHIVED" not in client.get(reverse("patients:list")).content.decode()
    assert "ARCHIVED" in client.get(reverse("patients:list"), {"archived": "true"}).content.decode()


def test_pages_have_no_inline_script_or_style(client_for, alice_practitioner, patient, alice_cares_for_patient):
    client = client_for(alice_practitioner)
    for url in (
        reverse("patients:list"),
        reverse("patients:detail", kwargs={"pk": patient.pk}),
        reverse("patients:create"),
        reverse("patients:edit", kwargs={"pk": patient.pk}),
        reverse("patients:note-create", kwargs={"patient_pk": patient.pk}),
    ):
        page = client.get(url).content.decode()
        assert "<script>" not in page and "style=" not in page and "<style" not in page, url


def test_the_detail_page_shows_demographics_and_contacts(client_for, rita_receptionist, patient):
    ContactFactory(patient=patient, name="Sarah Smith", relationship="Mother")

    page = client_for(rita_receptionist).get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()

    assert "943 476 5919" in page
    assert "Sarah Smith" in page
    assert "once the diary is available" in page
    assert "Clinical notes are shown only to practitioners caring for this patient" in page


def test_another_organisations_patient_is_404_on_every_page(client_for, adam_admin, foreign_patient):
    client = client_for(adam_admin)
    pk = foreign_patient.pk
    for method, url in (
        ("get", reverse("patients:detail", kwargs={"pk": pk})),
        ("get", reverse("patients:edit", kwargs={"pk": pk})),
        ("post", reverse("patients:archive", kwargs={"pk": pk})),
        ("get", reverse("patients:contact-create", kwargs={"patient_pk": pk})),
        ("post", reverse("patients:care-team-add", kwargs={"patient_pk": pk})),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "FOREIGN-CANARY" not in response.content.decode()


def test_registering_a_patient(client_for, rita_receptionist):
    response = client_for(rita_receptionist).post(reverse("patients:create"), FORM)

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", kwargs={"pk": patient.pk})
    assert patient.nhs_number == "9434765919"
    assert patient.postcode == "BA1 1AA"
    assert patient.phone == "+441225123456"
    assert patient.organisation == rita_receptionist.organisation


def test_a_practitioner_who_registers_a_patient_joins_their_care_team(client_for, alice_practitioner):
    client_for(alice_practitioner).post(reverse("patients:create"), FORM)

    assert CareTeamMember.objects.get().practitioner == alice_practitioner


def test_form_errors_are_shown_inline(client_for, rita_receptionist):
    response = client_for(rita_receptionist).post(
        reverse("patients:create"),
        {**FORM, "given_name": "", "nhs_number": "943 476 5918", "postcode": "BA1", "phone": "12"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('class="field has-error"') == 4
    assert "last digit does not match" in page
    assert "Enter a full UK postcode" in page
    assert not Patient.objects.exists()


def test_a_duplicate_nhs_number_is_an_inline_error(client_for, rita_receptionist, patient):
    response = client_for(rita_receptionist).post(reverse("patients:create"), FORM)

    assert response.status_code == 400
    assert "Another patient in this organisation has this NHS number" in response.content.decode()


def test_editing_a_patient(client_for, rita_receptionist, patient):
    url = reverse("patients:edit", kwargs={"pk": patient.pk})
    client = client_for(rita_receptionist)

    form = client.get(url)
    response = client.post(url, {**FORM, "given_name": "Jon", "family_name": "Smith"})

    assert form.status_code == 200
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.given_name == "Jon"
    assert patient.search_name == " jon smith "


def test_editing_with_errors_keeps_the_record(client_for, rita_receptionist, patient):
    response = client_for(rita_receptionist).post(
        reverse("patients:edit", kwargs={"pk": patient.pk}), {**FORM, "date_of_birth": "31/02/1980"}
    )

    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.given_name == "John"


def test_archiving_and_restoring(client_for, rita_receptionist, patient):
    client = client_for(rita_receptionist)
    url = reverse("patients:archive", kwargs={"pk": patient.pk})

    assert client.get(url).status_code == 405
    client.post(url)
    patient.refresh_from_db()
    assert patient.archived
    client.post(url, {"restore": "1"})
    patient.refresh_from_db()
    assert not patient.archived


def test_adding_and_changing_a_contact(client_for, rita_receptionist, patient):
    client = client_for(rita_receptionist)
    data = {"name": "Sarah", "relationship": "Mother", "phone": "0117 496 0123", "email": "", "authority": "none"}

    client.post(reverse("patients:contact-create", kwargs={"patient_pk": patient.pk}), data)
    contact = Contact.objects.get()
    client.post(
        reverse("patients:contact-edit", kwargs={"patient_pk": patient.pk, "pk": contact.pk}),
        {**data, "authority": "lasting_power_of_attorney_health_welfare"},
    )
    errors = client.post(reverse("patients:contact-create", kwargs={"patient_pk": patient.pk}), {**data, "phone": "1"})

    contact.refresh_from_db()
    assert contact.phone == "+441174960123"
    assert contact.authority == "lasting_power_of_attorney_health_welfare"
    assert errors.status_code == 400


def test_care_team_pages(client_for, adam_admin, rita_receptionist, alice_practitioner, patient):
    add = reverse("patients:care-team-add", kwargs={"patient_pk": patient.pk})
    remove = reverse(
        "patients:care-team-remove", kwargs={"patient_pk": patient.pk, "practitioner_pk": alice_practitioner.pk}
    )

    assert client_for(rita_receptionist).post(add, {"practitioner": alice_practitioner.pk}).status_code == 403
    client_for(adam_admin).post(add, {"practitioner": alice_practitioner.pk})
    assert CareTeamMember.objects.filter(practitioner=alice_practitioner).exists()
    client_for(adam_admin).post(remove)
    assert not CareTeamMember.objects.exists()


# Notes on pages ------------------------------------------------------------------------------


def test_alice_writes_a_draft_from_a_template_then_signs_it(
    client_for, alice_practitioner, patient, alice_cares_for_patient, soap_template
):
    client = client_for(alice_practitioner)
    new_url = reverse("patients:note-create", kwargs={"patient_pk": patient.pk})

    form = client.get(new_url, {"template": soap_template.pk})
    client.post(
        new_url,
        {"template": soap_template.pk, "section_0": "Sore knee.", "section_3": "Exercises.", "text": ""},
    )
    note = ClinicalNote.objects.get()
    client.post(reverse("patients:note-sign", kwargs={"patient_pk": patient.pk, "pk": note.pk}))
    client.post(reverse("patients:note-addendum", kwargs={"patient_pk": patient.pk, "pk": note.pk}), {"text": "Later."})
    detail = client.get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()

    assert "Subjective" in form.content.decode() and "Plan" in form.content.decode()
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.sections == {"Subjective": "Sore knee.", "Objective": "", "Assessment": "", "Plan": "Exercises."}
    assert NoteAddendum.objects.get().text == "Later."
    assert "Sore knee." in detail and "Later." in detail


def test_save_and_sign_in_one_step_and_the_signed_note_cannot_be_edited(
    client_for, alice_practitioner, patient, alice_cares_for_patient
):
    client = client_for(alice_practitioner)
    client.post(reverse("patients:note-create", kwargs={"patient_pk": patient.pk}), {"text": "Done.", "sign": "1"})
    note = ClinicalNote.objects.get()

    response = client.post(
        reverse("patients:note-edit", kwargs={"patient_pk": patient.pk, "pk": note.pk}), {"text": "Changed."}
    )

    assert response.status_code == 409
    note.refresh_from_db()
    assert note.is_signed and note.text == "Done."


def test_editing_a_draft_page(client_for, alice_practitioner, patient, alice_cares_for_patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="First go.")
    url = reverse("patients:note-edit", kwargs={"patient_pk": patient.pk, "pk": note.pk})
    client = client_for(alice_practitioner)

    assert "First go." in client.get(url).content.decode()
    client.post(url, {"text": "Second go."})
    note.refresh_from_db()
    assert note.text == "Second go." and note.status == NoteStatus.DRAFT


@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin", "paul_practitioner"])
def test_note_pages_are_403_for_anyone_but_a_caring_practitioner(
    client_for, request, patient, alice_practitioner, alice_cares_for_patient, who
):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
    client = client_for(request.getfixturevalue(who))
    kwargs = {"patient_pk": patient.pk, "pk": note.pk}

    assert client.get(reverse("patients:note-create", kwargs={"patient_pk": patient.pk})).status_code == 403
    assert client.post(reverse("patients:note-create", kwargs={"patient_pk": patient.pk})).status_code == 403
    assert client.get(reverse("patients:note-edit", kwargs=kwargs)).status_code == 403
    assert client.post(reverse("patients:note-sign", kwargs=kwargs)).status_code == 403
    assert client.post(reverse("patients:note-addendum", kwargs=kwargs), {"text": "x"}).status_code == 403
    assert not NoteAddendum.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, patient):
    response = client.get(reverse("patients:detail", kwargs={"pk": patient.pk}))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_save_and_sign_of_an_empty_note_saves_nothing(client_for, alice_practitioner, patient, alice_cares_for_patient):
    response = client_for(alice_practitioner).post(
        reverse("patients:note-create", kwargs={"patient_pk": patient.pk}), {"text": "", "sign": "1"}
    )

    assert response.status_code == 400
    assert "Write something before signing" in response.content.decode()
    assert not ClinicalNote.objects.exists()


def test_a_note_is_written_for_one_of_the_patients_appointments(
    client_for, alice_practitioner, patient, alice_cares_for_patient, johns_appointment, marys_appointment
):
    client = client_for(alice_practitioner)
    new_url = reverse("patients:note-create", kwargs={"patient_pk": patient.pk})

    form = client.get(new_url).content.decode()
    client.post(new_url, {"text": "Seen.", "appointment": str(johns_appointment.pk)})
    detail = client.get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()

    assert f'value="{johns_appointment.pk}"' in form and "Mon 7 Jan 2030 10:00" in form
    assert f'value="{marys_appointment.pk}"' not in form
    assert ClinicalNote.objects.get().appointment == johns_appointment
    assert "For the appointment on 7 Jan 2030 10:00" in detail


def test_another_patients_appointment_is_an_inline_error(
    client_for, alice_practitioner, patient, alice_cares_for_patient, marys_appointment
):
    response = client_for(alice_practitioner).post(
        reverse("patients:note-create", kwargs={"patient_pk": patient.pk}),
        {"text": "Seen.", "appointment": str(marys_appointment.pk)},
    )

    assert response.status_code == 400
    assert "Choose one of this patient&#x27;s appointments." in response.content.decode()
    assert not ClinicalNote.objects.exists()


def test_editing_a_draft_changes_its_appointment(
    client_for, alice_practitioner, patient, alice_cares_for_patient, johns_appointment
):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, appointment=johns_appointment)
    url = reverse("patients:note-edit", kwargs={"patient_pk": patient.pk, "pk": note.pk})
    client = client_for(alice_practitioner)

    page = client.get(url).content.decode()
    client.post(url, {"text": "Seen.", "appointment": ""})

    assert f'<option value="{johns_appointment.pk}" selected>' in page
    note.refresh_from_db()
    assert note.appointment_id is None
