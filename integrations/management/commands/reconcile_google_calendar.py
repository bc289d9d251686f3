from django.core.management.base import BaseCommand, CommandError

from core.models import Staff
from integrations import outbox, services


class Command(BaseCommand):
    help = (
        "Compare the diary with what Jelly believes is in each practitioner's Google Calendar and "
        "repair drift: rows that drifted are marked pending and pushed. Also run nightly by beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practitioner", metavar="EMAIL", help="Only this staff member's calendar.")
        parser.add_argument("--no-push", action="store_true", help="Only re-mark rows; leave pushing to workers.")

    def handle(self, *args, **options):
        staff_ids = None
        if options["practitioner"]:
            staff = Staff.objects.filter(email__iexact=options["practitioner"].strip()).first()
            if staff is None:
                raise CommandError(f"No staff member with email {options['practitioner']!r}.")
            staff_ids = [staff.pk]
        report = services.google_calendar_reconcile(staff_ids=staff_ids)
        self.stdout.write(f"reconcile: {report}")
        if not options["no_push"]:
            self.stdout.write(f"outbox: {outbox.drain()}")
