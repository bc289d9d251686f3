"""Operator commands: create_organisation, create_staff, create_api_token, seed_demo."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.choices import Role
from core.demo import DEMO_SLUG, DEMO_STAFF
from core.models import ApiToken, Location, Organisation, Staff
from core.services import api_token_digest
from jelly import settings as production_settings
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Plinth-Ankle-Lantern-42"


def run(command: str, *args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out, "stderr": io.StringIO()}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command(command, *args, **options)
    return out.getvalue()


def create_staff(*args: str, password: str = STRONG_PASSWORD) -> str:
    return run("create_staff", "--password-stdin", *args, stdin=password + "\n")


class TestCreateOrganisation:
    def test_creates_the_organisation_and_says_so(self):
        output = run("create_organisation", "--name", " Wells Osteopathy ", "--slug", "wells-osteo")

        organisation = Organisation.objects.get(slug="wells-osteo")
        assert organisation.name == "Wells Osteopathy"
        assert "Created organisation 'Wells Osteopathy'" in output
        assert str(organisation.id) in output

    @pytest.mark.parametrize(("flag", "expected"), [("yes", True), ("no", False)])
    def test_two_factor_requirement_can_be_chosen(self, flag, expected):
        run("create_organisation", "--name", "Frome Feet", "--slug", "frome-feet", "--require-two-factor", flag)

        assert Organisation.objects.get(slug="frome-feet").require_two_factor is expected

    @pytest.mark.parametrize("default", [True, False])
    def test_two_factor_follows_the_default_when_not_given(self, settings, default):
        settings.TWO_FACTOR_REQUIRED_BY_DEFAULT = default

        run("create_organisation", "--name", "Bruton Physio", "--slug", "bruton-physio")

        assert Organisation.objects.get(slug="bruton-physio").require_two_factor is default

    def test_a_duplicate_slug_is_refused_and_nothing_is_created(self, clinic):
        with pytest.raises(CommandError, match=r"^slug: Organisation with this Slug already exists\.$"):
            run("create_organisation", "--name", "Another Bath Physio", "--slug", clinic.slug)

        assert list(Organisation.objects.values_list("name", flat=True)) == ["Bath Physio"]

    def test_an_invalid_slug_is_refused(self):
        with pytest.raises(CommandError, match=r"^slug: Enter a valid .slug."):
            run("create_organisation", "--name", "Bad Slug Clinic", "--slug", "Not a slug!")

        assert not Organisation.objects.exists()


class TestCreateStaff:
    def test_creates_staff_with_the_password_from_stdin(self, clinic):
        output = create_staff("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.PRACTITIONER)

        nina = Staff.objects.get(email="nina@bath.test")
        assert nina.organisation == clinic
        assert nina.role == Role.PRACTITIONER
        assert nina.check_password(STRONG_PASSWORD)
        assert STRONG_PASSWORD not in nina.password
        assert f"Created practitioner nina@bath.test in {clinic.slug}" in output

    def test_only_the_first_line_of_stdin_is_the_password(self, clinic):
        run(
            "create_staff",
            *("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.ADMIN, "--password-stdin"),
            stdin=f"{STRONG_PASSWORD}\r\nsecond line\n",
        )

        assert Staff.objects.get(email="nina@bath.test").check_password(STRONG_PASSWORD)

    def test_names_are_stored(self, clinic):
        create_staff(
            *("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.RECEPTIONIST),
            *("--given-name", "Nina", "--family-name", "Nightingale"),
        )

        nina = Staff.objects.get(email="nina@bath.test")
        assert (nina.given_name, nina.family_name) == ("Nina", "Nightingale")
        assert nina.full_name == "Nina Nightingale"

    def test_the_email_is_stored_in_lower_case(self, clinic):
        create_staff("--organisation", clinic.slug, "--email", "  Nina.N@Bath.TEST ", "--role", Role.ADMIN)

        assert Staff.objects.filter(organisation=clinic).get().email == "nina.n@bath.test"

    def test_a_weak_password_is_refused_and_no_staff_is_created(self, clinic):
        with pytest.raises(CommandError, match=r"^password: .*too short.*too common"):
            create_staff(
                "--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.ADMIN, password="password"
            )

        assert not Staff.objects.exists()

    def test_a_password_like_the_email_is_refused(self, clinic):
        with pytest.raises(CommandError, match="too similar"):
            create_staff(
                *("--organisation", clinic.slug, "--email", "ninanightingale@bath.test", "--role", Role.ADMIN),
                password="ninanightingale",
            )

        assert not Staff.objects.exists()

    def test_an_empty_stdin_is_refused(self, clinic):
        with pytest.raises(CommandError, match="No password on standard input"):
            create_staff("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.ADMIN, password="")

        assert not Staff.objects.exists()

    def test_an_unknown_organisation_is_refused(self, clinic):
        with pytest.raises(CommandError, match=r"No organisation with slug 'nowhere'"):
            create_staff("--organisation", "nowhere", "--email", "nina@bath.test", "--role", Role.ADMIN)

        assert not Staff.objects.exists()

    def test_an_unknown_role_is_refused_by_the_parser(self, clinic):
        with pytest.raises(CommandError, match="invalid choice: 'doctor'"):
            create_staff("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", "doctor")

        assert not Staff.objects.exists()

    def test_a_duplicate_email_in_another_case_is_refused_and_nothing_changes(self, clinic, alice_practitioner):
        original_hash = alice_practitioner.password

        with pytest.raises(CommandError, match=r"^email: Staff member with this Email already exists\."):
            create_staff("--organisation", clinic.slug, "--email", "ALICE@bath.test", "--role", Role.ADMIN)

        assert list(Staff.objects.values_list("email", flat=True)) == ["alice@bath.test"]
        alice_practitioner.refresh_from_db()
        assert alice_practitioner.role == Role.PRACTITIONER
        assert alice_practitioner.password == original_hash

    def test_passwords_are_hashed_with_argon2_under_the_production_hashers(self, clinic, settings):
        assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
        settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS

        create_staff("--organisation", clinic.slug, "--email", "nina@bath.test", "--role", Role.ADMIN)

        nina = Staff.objects.get(email="nina@bath.test")
        assert nina.password.startswith("argon2$argon2id$")
        assert nina.check_password(STRONG_PASSWORD)


class TestCreateApiToken:
    def test_prints_a_key_of_which_only_the_digest_is_stored(self, alice_practitioner):
        key = run("create_api_token", "--email", alice_practitioner.email, "--name", "booking widget").strip()

        assert re.fullmatch(r"jly_[A-Za-z0-9_-]{40,}", key)
        token = ApiToken.objects.get()
        assert token.staff == alice_practitioner
        assert token.name == "booking widget"
        assert token.key_digest == api_token_digest(key)
        assert token.prefix == key[:12]
        for field in ApiToken._meta.concrete_fields:
            assert key not in str(getattr(token, field.attname))

    def test_the_key_appears_nowhere_in_the_stored_row(self, alice_practitioner):
        key = run("create_api_token", "--email", alice_practitioner.email).strip()

        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(t)::text FROM core_apitoken t")
            (stored_row,) = cursor.fetchone()
        assert api_token_digest(key) in stored_row
        assert key not in stored_row

    def test_each_token_has_its_own_key(self, alice_practitioner):
        first = run("create_api_token", "--email", alice_practitioner.email).strip()
        second = run("create_api_token", "--email", alice_practitioner.email).strip()

        assert first != second
        assert ApiToken.objects.filter(staff=alice_practitioner).count() == 2

    def test_the_email_is_matched_ignoring_case(self, alice_practitioner):
        run("create_api_token", "--email", "Alice@Bath.Test")

        assert ApiToken.objects.get().staff == alice_practitioner

    def test_an_unknown_email_is_refused(self, alice_practitioner):
        with pytest.raises(CommandError, match=r"No staff member with email 'nobody@bath.test'"):
            run("create_api_token", "--email", "nobody@bath.test")

        assert not ApiToken.objects.exists()

    def test_operators_and_inactive_staff_get_no_token(self, alice_practitioner):
        Staff.objects.create_superuser("operator@jelly.example", TEST_PASSWORD)
        alice_practitioner.is_active = False
        alice_practitioner.save()

        for email in ("operator@jelly.example", alice_practitioner.email):
            with pytest.raises(CommandError, match="only to active staff of an organisation"):
                run("create_api_token", "--email", email)

        assert not ApiToken.objects.exists()


class TestSeedDemo:
    def counts(self) -> tuple[int, int, int]:
        return Organisation.objects.count(), Location.objects.count(), Staff.objects.count()

    def test_running_twice_creates_nothing_more(self):
        run("seed_demo")
        after_first = self.counts()

        run("seed_demo")

        assert after_first == (1, 1, len(DEMO_STAFF))
        assert self.counts() == after_first

    def test_tops_up_staff_that_were_removed(self):
        run("seed_demo")
        Staff.objects.filter(email=DEMO_STAFF[-1][0]).delete()

        run("seed_demo")

        assert Staff.objects.filter(email=DEMO_STAFF[-1][0]).exists()
        assert self.counts() == (1, 1, len(DEMO_STAFF))

    def test_leaves_other_organisations_alone(self, alice_practitioner, clinic_location):
        run("seed_demo")

        assert Staff.objects.filter(organisation=alice_practitioner.organisation).count() == 1
        assert Location.objects.for_organisation(alice_practitioner.organisation).count() == 1
        assert Staff.objects.filter(organisation__slug=DEMO_SLUG).count() == len(DEMO_STAFF)

    def test_the_demo_organisation_does_not_require_two_factor(self, settings):
        settings.TWO_FACTOR_REQUIRED_BY_DEFAULT = True

        run("seed_demo")

        assert Organisation.objects.get(slug=DEMO_SLUG).require_two_factor is False

    def test_every_printed_login_can_sign_in_with_the_printed_password(self, client):
        output = run("seed_demo")

        password = re.search(r"password for all: (\S+)\)", output).group(1)
        printed = dict(
            (email, role) for role, email in re.findall(r"^\s+(\w+)\s+(\S+@\S+)$", output, flags=re.MULTILINE)
        )
        assert printed == {email: role for email, role, *_ in DEMO_STAFF}
        for email, role in printed.items():
            response = client.post("/accounts/login/", {"username": email, "password": password})
            assert response.status_code == 302, email
            assert response["Location"] == "/"
            assert client.get("/").status_code == 200
            assert Staff.objects.get(email=email).role == role
            client.post("/accounts/logout/")
