import sys

from django.core.management.base import BaseCommand, CommandError

from privacy.audit import Anchor, anchor_problem, verify_chain
from privacy.management.commands._organisations import organisations_named


class Command(BaseCommand):
    help = (
        "Check each organisation's audit chain (hashes, order, nothing missing) and report the first "
        "broken link; with --anchors, also that the chain still holds each anchor taken earlier by "
        "`audit_anchor` (so it was not rewritten end to end). Exits non-zero if anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", metavar="SLUG", help="Check only this organisation.")
        parser.add_argument(
            "--anchors",
            metavar="FILE",
            help="Lines printed by audit_anchor (any number per organisation; - reads standard input).",
        )

    def handle(self, *args, organisation=None, anchors=None, **options):
        organisations = organisations_named(organisation)
        anchored = self.read_anchors(anchors) if anchors else []
        by_slug = {each.slug: each for each in organisations}
        unknown = sorted({a.organisation_slug for a in anchored} - set(by_slug)) if not organisation else []
        if unknown:
            raise CommandError(f"Anchors name organisations that do not exist: {', '.join(unknown)}")
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
            for anchor in (a for a in anchored if a.organisation_slug == each.slug):
                problem = anchor_problem(each, anchor)
                if problem is None:
                    self.stdout.write(f"{each.slug}: holds anchor #{anchor.sequence}")
                else:
                    broken.append(each.slug)
                    self.stdout.write(f"{each.slug}: ANCHOR #{anchor.sequence} FAILS: {problem}")
        if broken:
            raise CommandError(f"Audit chain broken for: {', '.join(sorted(set(broken)))}")

    def read_anchors(self, path: str) -> list[Anchor]:
        try:
            if path == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(path, encoding="utf-8") as file:
                    lines = file.read().splitlines()
        except OSError as exc:
            raise CommandError(f"Cannot read anchors from {path}: {exc.strerror}") from exc
        try:
            return [Anchor.from_json(line) for line in lines if line.strip()]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
