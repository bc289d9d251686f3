"""Factories for the patients app, and its objects for the authorisation matrix."""

import datetime

import factory

from core.choices import Role
from patients.choices import ContactAuthority, Gender, NoteStatus
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, NoteTemplate, Patient
from patients.validators import nhs_check_digit
from tests.factories import OrganisationFactory, StaffFactory
from tests.matrix_registry import register_matrix_object


def valid_nhs_number(n: int) -> str:
    """The first valid NHS number at or after 999 000 000 + n (999 range: never issued)."""
    candidate = n
    while True:
        first_nine = f"{999_000_000 + candidate % 1_000_000:09d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
        candidate += 1


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    organisation = factory.SubFactory(OrganisationFactory)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = factory.Sequence(lambda n: datetime.date(1950, 1, 1) + datetime.timedelta(days=97 * n))
    gender = Gender.UNKNOWN
    # Spaced out so a factory patient never takes the next valid number by accident.
    nhs_number = factory.Sequence(lambda n: valid_nhs_number(n * 13))
    phone = factory.Sequence(lambda n: f"+44117496{n % 10000:04d}")
    postcode = "BA1 1AA"
    town = "Bath"
    preferred_name = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        patient = model_class(*args, **kwargs)
        patient.refresh_search_columns()
        patient.save()
        return patient


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    name = factory.Faker("name", locale="en_GB")
    relationship = "Daughter"
    phone = "+441174960999"
    authority = ContactAuthority.NONE


class PractitionerFactory(StaffFactory):
    role = Role.PRACTITIONER


class CareTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMember

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    practitioner = factory.SubFactory(PractitionerFactory, organisation=factory.SelfAttribute("..organisation"))


class NoteTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoteTemplate

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"SOAP {n}")
    section_headings = factory.LazyFunction(lambda: ["Subjective", "Objective", "Assessment", "Plan"])


class ClinicalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalNote

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    author = factory.SubFactory(PractitionerFactory, organisation=factory.SelfAttribute("..organisation"))
    text = "Reviewed today."
    sections = factory.LazyFunction(dict)
    status = NoteStatus.DRAFT
    signed_at = None

    class Params:
        signed = factory.Trait(
            status=NoteStatus.SIGNED,
            signed_at=factory.LazyFunction(lambda: datetime.datetime.now(datetime.UTC)),
        )


class NoteAddendumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoteAddendum

    note = factory.SubFactory(ClinicalNoteFactory, signed=True)
    organisation = factory.SelfAttribute("note.organisation")
    author = factory.SelfAttribute("note.author")
    text = "Addendum text."


def _note(organisation, canary):
    return ClinicalNoteFactory(
        patient=PatientFactory(organisation=organisation, family_name=f"Family {canary}"),
        text=f"Note {canary}",
        signed=True,
    )


register_matrix_object(
    "patient", lambda organisation, canary: PatientFactory(organisation=organisation, family_name=f"Family {canary}")
)
register_matrix_object(
    "contact",
    lambda organisation, canary: ContactFactory(
        patient=PatientFactory(organisation=organisation), name=f"Contact {canary}"
    ),
)
register_matrix_object("note", _note)
register_matrix_object("clinicalnote", _note)
register_matrix_object(
    "notetemplate", lambda organisation, canary: NoteTemplateFactory(organisation=organisation, name=f"SOAP {canary}")
)
register_matrix_object(
    "careteammember",
    lambda organisation, canary: CareTeamMemberFactory(
        patient=PatientFactory(organisation=organisation, family_name=f"Family {canary}")
    ),
)
register_matrix_object(
    "practitioner",
    lambda organisation, canary: PractitionerFactory(organisation=organisation, family_name=f"Practitioner {canary}"),
)
