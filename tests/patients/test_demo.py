from core.demo import seed
from patients.models import CareTeamMember, ClinicalNote, NoteTemplate, Patient
from patients.validators import normalise_nhs_number


def test_the_demo_has_about_fifty_valid_patients_a_soap_template_and_is_idempotent(db):
    organisation = seed()
    seed()

    patients = Patient.objects.for_organisation(organisation)
    assert patients.count() == 50
    assert all(normalise_nhs_number(number) == number for number in patients.values_list("nhs_number", flat=True))
    assert NoteTemplate.objects.get(organisation=organisation).section_headings == [
        "Subjective",
        "Objective",
        "Assessment",
        "Plan",
    ]
    assert CareTeamMember.objects.filter(organisation=organisation).exists()
    assert ClinicalNote.objects.filter(organisation=organisation, status="signed").exists()
