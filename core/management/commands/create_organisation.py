from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.services import organisation_create


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create an organisation (a clinic business)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="Short unique name used in commands, e.g. 'demo'.")
        parser.add_argument(
            "--require-two-factor",
            choices=["yes", "no"],
            help="Whether staff must use TOTP (default: TWO_FACTOR_REQUIRED_BY_DEFAULT).",
        )

    def handle(self, *args, name, slug, require_two_factor, **options):
        try:
            organisation = organisation_create(
                name=name,
                slug=slug,
                require_two_factor=None if require_two_factor is None else require_two_factor == "yes",
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        self.stdout.write(
            f"Created organisation {organisation.name!r} (slug {organisation.slug}, id {organisation.id})."
        )
