from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.management.commands.create_organisation import validation_message
from core.models import Staff
from core.services import api_token_create


class Command(BaseCommand):
    help = "Issue an API token for a staff member and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'booking widget'.")

    def handle(self, *args, email, name, **options):
        staff = Staff.objects.filter(email__iexact=email.strip()).first()
        if staff is None:
            raise CommandError(f"No staff member with email {email!r}.")
        try:
            _, key = api_token_create(staff=staff, name=name)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        self.stdout.write(key)
