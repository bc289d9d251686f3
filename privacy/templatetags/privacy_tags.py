"""Template filters for privacy pages: ISO times from exports shown in clinic time, and labels."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from privacy.choices import (
    AuditAction,
    ConsentDecision,
    DataCategory,
    DisclosurePurpose,
    RecipientCategory,
    RecordingMethod,
)

register = template.Library()

LABELS = {
    **dict(DataCategory.choices),
    **dict(RecipientCategory.choices),
    **dict(DisclosurePurpose.choices),
    **dict(ConsentDecision.choices),
    **dict(RecordingMethod.choices),
    **dict(AuditAction.choices),
}


@register.filter
def when(value) -> str:
    """'3 Mar 2025 14:05' for an ISO datetime (in clinic time), '3 Mar 2025' for an ISO date."""
    if not value:
        return ""
    text = str(value)
    try:
        if "T" in text:
            return date_format(timezone.localtime(datetime.fromisoformat(text)), "j M Y H:i")
        return date_format(date.fromisoformat(text), "j M Y")
    except ValueError:
        return text


@register.filter
def label(value) -> str:
    """The human label of a stored choice value (data category, purpose, decision...)."""
    return LABELS.get(value, value)


@register.filter
def labels(values) -> str:
    return ", ".join(LABELS.get(value, value) for value in values or [])
