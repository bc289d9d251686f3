"""Demo patients for `seed_demo`: about 50 people, a SOAP note template, a few notes. Idempotent.

NHS numbers are in the 999 range (never issued to real people) and phone numbers in Ofcom's
range for drama (0117 496 0xxx), so nothing here can reach a real person.
"""

import random
from datetime import date, timedelta

from core.choices import Role
from core.models import Organisation, Staff
from patients import services
from patients.choices import ContactAuthority, Gender, NoteStatus
from patients.models import ClinicalNote, NoteTemplate, Patient
from patients.validators import nhs_check_digit

SOAP_HEADINGS = ["Subjective", "Objective", "Assessment", "Plan"]
DEMO_PATIENT_COUNT = 50
GIVEN_NAMES = {
    Gender.FEMALE: [
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Mia",
        "Sophie",
        "Grace",
        "Freya",
        "Emily",
        "Poppy",
        "Margaret",
        "Susan",
        "Helen",
        "Priya",
        "Aisha",
        "Zoë",
        "Siobhan",
        "Catherine",
    ],
    Gender.MALE: [
        "Oliver",
        "George",
        "Harry",
        "Jack",
        "Noah",
        "Leo",
        "Arthur",
        "Thomas",
        "John",
        "David",
        "Michael",
        "Peter",
        "Mohammed",
        "Rhys",
        "Callum",
        "Dylan",
        "Seán",
        "William",
    ],
}
FAMILY_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "O'Brien",
    "Patel",
    "Khan",
    "Nowak",
    "Smith-Jones",
    "MacDonald",
]
STREETS = [
    "High Street",
    "Milsom Street",
    "Walcot Street",
    "Gay Street",
    "Pulteney Road",
    "Widcombe Hill",
    "Bloomfield Avenue",
    "London Road",
    "Wells Road",
    "Newbridge Hill",
]
POSTCODES = ["BA1 1AA", "BA1 2BT", "BA1 5AH", "BA1 6NE", "BA2 3DQ", "BA2 4BL", "BA2 6AS", "BA1 3JD", "BA2 2PT"]
GP_PRACTICES = ["Abbey Medical Centre", "Bath Riverside Surgery", "Widcombe Surgery", ""]


def demo_nhs_number(index: int) -> str:
    """The index-th valid NHS number in the 999 test range."""
    candidate = 0
    found = -1
    while True:
        first_nine = f"999{candidate:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            found += 1
            if found == index:
                return f"{first_nine}{check}"
        candidate += 1


def _seed_template(organisation: Organisation) -> NoteTemplate:
    template = NoteTemplate.objects.for_organisation(organisation).filter(name="SOAP").first()
    if template is None:
        template = services.note_template_create(organisation=organisation, name="SOAP", section_headings=SOAP_HEADINGS)
    return template


def seed(organisation: Organisation) -> None:
    template = _seed_template(organisation)
    practitioners = list(Staff.objects.for_organisation(organisation).filter(role=Role.PRACTITIONER).order_by("email"))
    rng = random.Random(3)  # noqa: S311 - the same demo every time, not a secret
    existing = set(Patient.objects.for_organisation(organisation).values_list("nhs_number", flat=True))
    for index in range(DEMO_PATIENT_COUNT):
        gender = Gender.FEMALE if index % 2 == 0 else Gender.MALE
        given_name = rng.choice(GIVEN_NAMES[gender])
        family_name = rng.choice(FAMILY_NAMES)
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 85))
        street_number = rng.randrange(1, 120)
        street = rng.choice(STREETS)
        postcode = rng.choice(POSTCODES)
        practice = rng.choice(GP_PRACTICES)
        nhs_number = demo_nhs_number(index)
        if nhs_number in existing:
            continue
        patient = services.patient_create(
            organisation=organisation,
            given_name=given_name,
            family_name=family_name,
            preferred_name="Johnny" if given_name == "John" else "",
            date_of_birth=born,
            gender=gender,
            nhs_number=nhs_number,
            email=f"{given_name.lower()}.{index}@example.com" if index % 3 else "",
            phone=f"0117 496 0{index:03d}",
            address_line1=f"{street_number} {street}",
            town="Bath",
            postcode=postcode,
            registered_gp_practice=practice,
        )
        if born > date.today() - timedelta(days=365 * 16):
            services.contact_create(
                patient=patient,
                name=f"{rng.choice(GIVEN_NAMES[Gender.FEMALE])} {family_name}",
                relationship="Mother",
                phone=f"0117 496 0{(index + 500):03d}",
                authority=ContactAuthority.PARENTAL_RESPONSIBILITY,
            )
        if practitioners and index % 2 == 0:
            practitioner = practitioners[(index // 2) % len(practitioners)]
            services.care_team_member_add(patient=patient, practitioner=practitioner)
            if index % 4 == 0:
                _seed_note(patient, practitioner, template)


def _seed_note(patient: Patient, practitioner: Staff, template: NoteTemplate) -> None:
    if ClinicalNote.objects.filter(patient=patient, status=NoteStatus.SIGNED).exists():
        return
    note = services.note_create(
        patient=patient,
        author=practitioner,
        template=template,
        sections={
            "Subjective": "Right knee pain for three weeks after a run; worse on stairs.",
            "Objective": "Mild effusion. Full extension, flexion to 120 degrees. Ligaments stable.",
            "Assessment": "Likely patellofemoral pain.",
            "Plan": "Quadriceps strengthening programme; review in two weeks.",
        },
    )
    services.note_sign(note=note, signer=practitioner)
