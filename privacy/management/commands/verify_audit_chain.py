from django.core.management.base import BaseCommand, CommandError

from core.models import Organisation
from privacy.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Check each organisation's audit chain (hashes, order, nothing missing) and report the first "
        "broken link. Exits non-zero if any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", metavar="SLUG", help="Check only this organisation.")

    def handle(self, *args, organisation=None, **options):
        organisations = Organisation.objects.order_by("slug")
        if organisation:
            organisations = organisations.filter(slug=organisation)
            if not organisations.exists():
                raise CommandError(f"No organisation with slug {organisation!r}.")
        broken = []
        for each in organisations:
            report = verify_chain(each)
            if report.intact:
                self.stdout.write(f"{each.slug}: intact, {report.entries_checked} entries")
            else:
                broken.append(each.slug)
                self.stdout.write(
                    f"{each.slug}: BROKEN at {report.first_broken_link} "
                    f"({report.entries_checked} entries before it are intact)"
                )
        if broken:
            raise CommandError(f"Audit chain broken for: {', '.join(broken)}")
