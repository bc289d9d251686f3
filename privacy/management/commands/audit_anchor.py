from django.core.management.base import BaseCommand

from privacy.audit import current_anchors
from privacy.management.commands._organisations import organisations_named


class Command(BaseCommand):
    help = (
        "Print each organisation's audit chain head (sequence and hash) as one JSON line. Keep the "
        "output outside Jelly's database; `verify_audit_chain --anchors FILE` later proves the chain "
        "up to each anchor was not rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation.")

    def handle(self, *args, organisation=None, **options):
        for anchor in current_anchors(organisations_named(organisation)):
            self.stdout.write(anchor.to_json())
