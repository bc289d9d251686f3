"""`manage.py import_patients FILE.csv --organisation SLUG [--skip-invalid] [--dry-run]`."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from core.models import Organisation
from patients.services import patients_import


class Command(BaseCommand):
    help = (
        "Import patients from a CSV file (header row names the columns). All rows or none unless "
        "--skip-invalid; duplicates are reported and left out. Exit status 1 if nothing was imported "
        "because of problems."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8), or - for standard input.")
        parser.add_argument("--organisation", required=True, help="Slug of the organisation to import into.")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good rows, skip the bad ones.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file; import nothing.")
        parser.add_argument("--max-problems", type=int, default=200, help="How many problems to print (default 200).")

    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['organisation']!r}.")
        started = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            width = 30
            filled = width * done // total if total else width
            sys.stderr.write(f"\r{stage:<9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        try:
            if options["file"] == "-":
                report = self._import(organisation, sys.stdin, options, progress)
            else:
                with open(options["file"], encoding="utf-8-sig", newline="") as lines:
                    report = self._import(organisation, lines, options, progress)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{options['file']} is not UTF-8 text: {exc}") from exc

        limit = options["max_problems"]
        for title, problems in (("Problems", report.errors), ("Duplicates (left out)", report.duplicates)):
            if problems:
                self.stdout.write(f"{title}:")
                for problem in problems[:limit]:
                    self.stdout.write(f"  row {problem.row}, {problem.column or '-'}: {problem.reason}")
                if len(problems) > limit:
                    self.stdout.write(f"  … and {len(problems) - limit} more")
        if report.unknown_columns:
            self.stdout.write(f"Columns ignored: {', '.join(report.unknown_columns)}")
        self.stdout.write(
            f"Rows: {report.rows}; imported: {report.imported}; rows with problems: {report.invalid_rows}; "
            f"duplicates: {len(report.duplicates)}; {time.monotonic() - started:.1f}s"
        )
        if report.errors and not report.committed and not options["dry_run"]:
            raise CommandError("Nothing was imported: fix the rows above, or use --skip-invalid.")

    def _import(self, organisation, lines, options, progress):
        return patients_import(
            organisation=organisation,
            lines=lines,
            skip_invalid=options["skip_invalid"],
            dry_run=options["dry_run"],
            progress=progress,
        )
