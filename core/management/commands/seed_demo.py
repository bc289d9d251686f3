from django.core.management.base import BaseCommand

from core.demo import DEMO_PASSWORD, DEMO_STAFF, seed


class Command(BaseCommand):
    help = "Create or top up the demo organisation (slug 'demo'); safe to run again. Prints the logins."

    def handle(self, *args, **options):
        organisation = seed()
        self.stdout.write(f"Demo organisation: {organisation.name} (slug {organisation.slug})")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, role, *_ in DEMO_STAFF:
            self.stdout.write(f"  {role:<13} {email}")
