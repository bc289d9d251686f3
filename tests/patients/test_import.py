"""CSV import: header synonyms, every bad row reported, all or nothing, duplicates, admin page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from patients.models import Patient
from patients.services import patients_import
from tests.patients.factories import PatientFactory

GOOD = """First Name,Surname,DOB,NHS No,Sex,Post Code,Telephone,E-mail,Favourite colour
Mary,Jones,14/07/1961,943 476 5919,F,ba1 1aa,01225 123456,mary@example.com,blue
Peter,Brown,1950-03-02,,m,,,,green
"""

WITH_ERRORS = """first_name,last_name,date_of_birth,nhs_number,postcode,phone,gender
Mary,Jones,14/07/1961,943 476 5919,BA1 1AA,,female
,Brown,31/02/1950,943 476 5918,BA1,12,x
Ann,Smith,01/01/1990,,,,
"""


def run(organisation, text, **options):
    return patients_import(organisation=organisation, lines=io.StringIO(text), **options)


def test_headers_are_matched_by_synonym_and_values_normalised(clinic):
    report = run(clinic, GOOD)

    assert report.committed and report.imported == 2 and report.rows == 2
    assert report.unknown_columns == ["Favourite colour"]
    mary = Patient.objects.get(family_name="Jones")
    assert (mary.nhs_number, mary.postcode, mary.phone, mary.gender) == (
        "9434765919",
        "BA1 1AA",
        "+441225123456",
        "female",
    )
    assert str(mary.date_of_birth) == "1961-07-14"
    assert mary.search_name == " mary jones "
    assert mary.organisation == clinic


def test_every_bad_row_is_reported_with_row_column_and_reason_and_nothing_is_imported(clinic):
    report = run(clinic, WITH_ERRORS)

    assert not report.committed and report.imported == 0
    assert not Patient.objects.exists()
    problems = {(problem.row, problem.column) for problem in report.errors}
    assert problems == {
        (3, "first_name"),
        (3, "date_of_birth"),
        (3, "nhs_number"),
        (3, "postcode"),
        (3, "phone"),
        (3, "gender"),
    }
    assert report.invalid_rows == 1
    reasons = " ".join(problem.reason for problem in report.errors)
    assert "last digit" in reasons and "UK postcode" in reasons


def test_skip_invalid_imports_the_good_rows(clinic):
    report = run(clinic, WITH_ERRORS, skip_invalid=True)

    assert report.committed and report.imported == 2
    assert set(Patient.objects.values_list("family_name", flat=True)) == {"Jones", "Smith"}


def test_dry_run_imports_nothing(clinic):
    report = run(clinic, GOOD, dry_run=True)

    assert not report.committed and not Patient.objects.exists() and not report.errors


def test_duplicates_in_the_file_and_in_the_database_are_reported_not_doubled(clinic):
    PatientFactory(organisation=clinic, given_name="Peter", family_name="Brown", date_of_birth="1950-03-02")
    text = GOOD + "MARY,JONES,14/07/1961,,,,,,\nMaria,Jones,14/07/1961,9434765919,,,,,\n"

    report = run(clinic, text)

    assert report.committed and report.imported == 1
    assert [(dup.row, dup.reason) for dup in report.duplicates] == [
        (3, "Same name and date of birth as an existing patient."),
        (4, "Same name and date of birth as row 2."),
        (5, "Same NHS number as row 2."),
    ]
    assert Patient.objects.filter(family_name__iexact="jones").count() == 1


def test_an_existing_nhs_number_is_a_duplicate(clinic, patient):
    report = run(clinic, GOOD)

    assert [dup.reason for dup in report.duplicates] == ["Same NHS number as an existing patient."]
    assert report.imported == 1


def test_another_organisations_patients_are_not_duplicates(clinic, other_clinic):
    PatientFactory(organisation=other_clinic, nhs_number="9434765919")

    assert run(clinic, GOOD).imported == 2


def test_a_missing_required_column_stops_the_import(clinic):
    report = run(clinic, "first name,dob\nMary,14/07/1961\n", skip_invalid=True)

    assert not report.committed
    assert [(problem.row, problem.column) for problem in report.errors] == [(1, "family_name")]


def test_blank_lines_are_ignored_and_a_bom_is_tolerated(clinic):
    report = run(clinic, "\ufeff" + GOOD + ",,,,,,,,\n")

    assert report.imported == 2 and report.rows == 2


def test_the_command_imports_reports_and_shows_progress(clinic, tmp_path, capsys):
    path = tmp_path / "patients.csv"
    path.write_text(GOOD)

    call_command("import_patients", str(path), "--organisation", "bath-physio")

    out, err = capsys.readouterr()
    assert "imported: 2" in out
    assert "Columns ignored: Favourite colour" in out
    assert "validated" in err and "2/2" in err
    assert Patient.objects.count() == 2


def test_the_command_fails_and_imports_nothing_when_rows_are_bad(clinic, tmp_path, capsys):
    path = tmp_path / "patients.csv"
    path.write_text(WITH_ERRORS)

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_patients", str(path), "--organisation", "bath-physio")

    out, _ = capsys.readouterr()
    assert "row 3, postcode: Enter a full UK postcode" in out
    assert not Patient.objects.exists()


def test_the_command_skip_invalid(clinic, tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text(WITH_ERRORS)

    call_command("import_patients", str(path), "--organisation", "bath-physio", "--skip-invalid")

    assert Patient.objects.count() == 2


def test_the_command_needs_a_known_organisation(db, tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text(GOOD)

    with pytest.raises(CommandError, match="No organisation"):
        call_command("import_patients", str(path), "--organisation", "nowhere")


def test_a_large_file_imports_in_batches(clinic):
    from tests.patients.factories import valid_nhs_number

    lines = ["given name,family name,dob,nhs number"]
    lines += [f"Given{n},Family{n},01/01/1980,{valid_nhs_number(n * 13)}" for n in range(5000)]

    report = run(clinic, "\n".join(lines) + "\n")

    assert report.imported == 5000
    assert Patient.objects.count() == 5000


# Admin page ----------------------------------------------------------------------------------


def upload(client, text, **options):
    return client.post(
        "/admin/patients/patient/import/",
        {"file": SimpleUploadedFile("patients.csv", text.encode(), content_type="text/csv"), **options},
    )


def test_the_admin_page_imports_and_shows_the_report(client_for, adam_admin):
    client = client_for(adam_admin)

    form = client.get("/admin/patients/patient/import/")
    response = upload(client, GOOD)

    assert form.status_code == 200
    assert response.status_code == 200
    assert "Imported: 2" in response.content.decode()
    assert Patient.objects.filter(organisation=adam_admin.organisation).count() == 2


def test_the_admin_page_reports_bad_rows_and_imports_nothing(client_for, adam_admin):
    page = upload(client_for(adam_admin), WITH_ERRORS).content.decode()

    assert "nothing was imported" in page
    assert "Enter a full UK postcode" in page
    assert not Patient.objects.exists()


def test_the_admin_page_skip_invalid(client_for, adam_admin):
    upload(client_for(adam_admin), WITH_ERRORS, skip_invalid="on")

    assert Patient.objects.count() == 2


def test_the_admin_page_rejects_a_file_that_is_not_text(client_for, adam_admin):
    response = client_for(adam_admin).post(
        "/admin/patients/patient/import/",
        {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x00binary", content_type="text/csv")},
    )

    assert "cannot be read as CSV" in response.content.decode()


@pytest.mark.parametrize("who", ["rita_receptionist", "alice_practitioner"])
def test_only_admins_reach_the_import_page(client_for, request, who):
    response = client_for(request.getfixturevalue(who)).get("/admin/patients/patient/import/")

    assert response.status_code in (302, 403)
    assert not Patient.objects.exists()
