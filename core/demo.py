"""Demo data for `seed_demo`: idempotent, and only ever in the organisation with slug `demo`.

Each app adds a seeder to `DEMO_SEEDERS`; each takes the demo organisation and returns nothing.
"""

from django.db import transaction
from django.utils.module_loading import import_string

from core.choices import Role
from core.models import Location, Organisation, Staff
from core.services import location_create, organisation_create, staff_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "Clinic-demo-2026!"
DEMO_STAFF = [
    ("admin@demo.jelly.test", Role.ADMIN, "Adam", "Admin"),
    ("alice@demo.jelly.test", Role.PRACTITIONER, "Alice", "Physio"),
    ("paul@demo.jelly.test", Role.PRACTITIONER, "Paul", "Podiatrist"),
    ("rita@demo.jelly.test", Role.RECEPTIONIST, "Rita", "Reception"),
]
# Later apps append "app.demo.seed" paths here.
DEMO_SEEDERS: list[str] = [
    "patients.demo.seed",
    "diary.demo.seed",
]


def seed_organisation() -> Organisation:
    organisation = Organisation.objects.filter(slug=DEMO_SLUG).first()
    if organisation is None:
        organisation = organisation_create(name="Demo Clinic", slug=DEMO_SLUG, require_two_factor=False)
    if not Location.objects.for_organisation(organisation).exists():
        location_create(
            organisation=organisation, name="Main clinic", address="1 High Street, Bath", postcode="BA1 1AA"
        )
    for email, role, given_name, family_name in DEMO_STAFF:
        if not Staff.objects.filter(email=email).exists():
            staff_create(
                organisation=organisation,
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                given_name=given_name,
                family_name=family_name,
            )
    return organisation


@transaction.atomic
def seed() -> Organisation:
    organisation = seed_organisation()
    for path in DEMO_SEEDERS:
        import_string(path)(organisation)
    return organisation
