"""What the audit commands share (a module whose name starts with _ is not a command)."""

from django.core.management.base import CommandError
from django.db.models import QuerySet

from core.models import Organisation


def organisations_named(slug: str | None) -> QuerySet[Organisation]:
    """Every organisation by slug, or only the one with `slug` (CommandError if none has it)."""
    organisations = Organisation.objects.order_by("slug")
    if slug:
        organisations = organisations.filter(slug=slug)
        if not organisations.exists():
            raise CommandError(f"No organisation with slug {slug!r}.")
    return organisations
