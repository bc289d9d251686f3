from django.core.management.base import BaseCommand, CommandError

from core.models import Organisation
from privacy.audit import current_anchors


class Command(BaseCommand):
    help = (
        "Print each organisation's audit chain head (sequence and hash) as one JSON line. Keep the "
        "output outside Jelly's database; `verify_audit_chain --anchors FILE` later proves the chain "
        "up to each anchor was not rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation.")

    def handle(self, *args, organisation=None, **options):
        organisations = Organisation.objects.all()
        if organisation:
            organisations = organisations.filter(slug=organisation)
            if not organisations.exists():
                raise CommandError(f"No organisation with slug {organisation!r}.")
        for anchor in current_anchors(organisations):
            self.stdout.write(anchor.to_json())
