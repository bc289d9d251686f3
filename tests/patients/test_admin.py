"""Patient and note template admin: scoped to the organisation, writes through the services."""

from patients.models import CareTeamMember, NoteTemplate, Patient
from tests.patients.factories import PatientFactory

ADD_FORM = {
    "given_name": "Mary",
    "family_name": "Jones",
    "preferred_name": "",
    "date_of_birth": "1961-07-14",
    "gender": "female",
    "nhs_number": "943 476 5919",
    "registered_gp_practice": "",
    "email": "",
    "phone": "01225 123456",
    "address_line1": "",
    "address_line2": "",
    "town": "",
    "postcode": "ba1 1aa",
    "date_of_death": "",
    "contacts-TOTAL_FORMS": "0",
    "contacts-INITIAL_FORMS": "0",
    "care_team-TOTAL_FORMS": "0",
    "care_team-INITIAL_FORMS": "0",
}


def test_adam_adds_a_patient_in_admin(client_for, adam_admin):
    response = client_for(adam_admin).post("/admin/patients/patient/add/", ADD_FORM)

    assert response.status_code == 302, response.content.decode()[:3000]
    patient = Patient.objects.get()
    assert patient.organisation == adam_admin.organisation
    assert patient.nhs_number == "9434765919" and patient.postcode == "BA1 1AA"


def test_admin_shows_the_same_field_errors(client_for, adam_admin, patient):
    response = client_for(adam_admin).post("/admin/patients/patient/add/", {**ADD_FORM, "postcode": "BA1"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a full UK postcode" in page
    assert "Another patient in this organisation has this NHS number" in page


def test_adam_puts_alice_on_the_care_team_inline(client_for, adam_admin, alice_practitioner, patient):
    response = client_for(adam_admin).post(
        f"/admin/patients/patient/{patient.pk}/change/",
        {
            **ADD_FORM,
            "nhs_number": patient.nhs_number,
            "care_team-TOTAL_FORMS": "1",
            "care_team-0-practitioner": str(alice_practitioner.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    member = CareTeamMember.objects.get()
    assert (member.practitioner, member.organisation) == (alice_practitioner, patient.organisation)
    assert member.added_by == adam_admin


def test_contacts_inline_go_through_the_services(client_for, adam_admin, patient):
    response = client_for(adam_admin).post(
        f"/admin/patients/patient/{patient.pk}/change/",
        {
            **ADD_FORM,
            "nhs_number": patient.nhs_number,
            "contacts-TOTAL_FORMS": "1",
            "contacts-0-name": "Sarah Smith",
            "contacts-0-relationship": "Mother",
            "contacts-0-phone": "0117 496 0123",
            "contacts-0-email": "",
            "contacts-0-authority": "parental_responsibility",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    contact = patient.contacts.get()
    assert (contact.phone, contact.organisation) == ("+441174960123", patient.organisation)


def test_admins_see_only_their_organisations_patients(client_for, olga_other, patient):
    client = client_for(olga_other)

    assert patient.family_name not in client.get("/admin/patients/patient/").content.decode()
    assert client.get(f"/admin/patients/patient/{patient.pk}/change/").status_code == 302


def test_a_note_template_is_edited_one_heading_per_line(client_for, adam_admin):
    client_for(adam_admin).post(
        "/admin/patients/notetemplate/add/",
        {"name": "SOAP", "headings": "Subjective\nObjective\n\nAssessment\nPlan\n", "is_active": "on"},
    )

    template = NoteTemplate.objects.get()
    assert template.section_headings == ["Subjective", "Objective", "Assessment", "Plan"]
    assert template.organisation == adam_admin.organisation


def test_archiving_in_admin_goes_through_the_service(client_for, adam_admin, clinic):
    patient = PatientFactory(organisation=clinic, given_name="Mary", family_name="Jones", nhs_number="")

    client_for(adam_admin).post(
        f"/admin/patients/patient/{patient.pk}/change/", {**ADD_FORM, "nhs_number": "", "archived": "on"}
    )

    patient.refresh_from_db()
    assert patient.archived and patient.archived_at is not None
