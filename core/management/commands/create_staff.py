import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.choices import Role
from core.management.commands.create_organisation import validation_message
from core.models import Organisation
from core.services import staff_create


class Command(BaseCommand):
    help = "Add a staff member to an organisation. The password is read from standard input."
    # `call_command(..., stdin=...)` passes the stream as an option; Django rejects options it
    # does not know, so declare it (as createsuperuser does).
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="Organisation slug.")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            required=True,
            help="Read the password from standard input (it never appears in the process list).",
        )
        parser.add_argument("--given-name", default="")
        parser.add_argument("--family-name", default="")

    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['organisation']!r}.")
        stdin = options.get("stdin") or sys.stdin
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("No password on standard input.")
        try:
            staff = staff_create(
                organisation=organisation,
                email=options["email"],
                role=options["role"],
                password=password,
                given_name=options["given_name"],
                family_name=options["family_name"],
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        self.stdout.write(f"Created {staff.role} {staff.email} in {organisation.slug} (id {staff.id}).")
