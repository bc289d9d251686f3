import time

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations import outbox, services


class Command(BaseCommand):
    help = (
        "Push what the outbox holds to Google (and any other destination), and send due patient "
        "email. Picks up anything a lost task left behind; safe to run alongside Celery workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=settings.INTEGRATIONS_DRAIN_WORKERS, help="Threads.")
        parser.add_argument("--batch-size", type=int, default=20)
        parser.add_argument(
            "--until-settled",
            action="store_true",
            help="Wait out backoffs until nothing is pending (default: stop when nothing is due now).",
        )
        parser.add_argument("--loop", action="store_true", help="Keep polling for work until stopped.")
        parser.add_argument("--poll-seconds", type=float, default=2.0)
        parser.add_argument("--max-seconds", type=float, default=None)
        parser.add_argument("--no-email", action="store_true", help="Do not send patient email.")

    def handle(self, *args, **options):
        deadline = time.monotonic() + options["max_seconds"] if options["max_seconds"] else None
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            report = outbox.drain(
                workers=options["workers"],
                batch_size=options["batch_size"],
                until_settled=options["until_settled"],
                poll_seconds=options["poll_seconds"],
                max_seconds=remaining,
            )
            emails = {} if options["no_email"] else services.emails_drain(max_seconds=remaining)
            if report.claimed or emails or not options["loop"]:
                self.stdout.write(f"outbox: {report}; email: {emails or 'nothing due'}")
            if not options["loop"] or (deadline is not None and time.monotonic() >= deadline):
                return
            time.sleep(options["poll_seconds"])
