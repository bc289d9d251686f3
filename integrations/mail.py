"""Patient email: the clinic's templates, rendered safely, and the transports that send them.

Templates are Django template text the clinic edits (`EmailTemplate`), with Jelly's wording as
the default for each kind. They are rendered by a bare template engine with no loaders and no
tag libraries beyond the built-ins, and with plain strings only in the context, so a template
can show the values listed in `PLACEHOLDERS` and nothing else (no model attributes, no other
templates, no `{% load %}`).

Transport, in order: the practitioner's own Gmail (send-only), the clinic's designated Gmail
sender, otherwise Django's configured email backend.
"""

import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from integrations.choices import EmailKind

logger = logging.getLogger(__name__)

CLINIC_ZONE = ZoneInfo("Europe/London")
PLACEHOLDERS = (
    "patient_first_name",
    "patient_name",
    "clinic",
    "practitioner",
    "service",
    "location",
    "date",
    "time",
    "end_time",
    "letter_subject",
    "letter_body",
    "join_url",
)
# Placeholders a kind's template must show, or the email would be pointless.
REQUIRED_PLACEHOLDERS = {
    EmailKind.ZOOM_LINK: ("join_url",),
    EmailKind.ZOOM_LINK_CHANGED: ("join_url",),
}
FORBIDDEN_TAGS = ("{% load", "{% include", "{% extends", "{% debug", "{% ssi", "{% url", "{% static", "{% csrf")

DEFAULT_TEMPLATES = {
    EmailKind.CONFIRMATION: (
        "Your appointment on {{ date }} at {{ time }}",
        "Dear {{ patient_first_name }},\n\n"
        "Your {{ service }} appointment with {{ practitioner }} is booked for {{ date }} at {{ time }}"
        " at {{ location }}.\n\nIf you cannot come, please let us know.\n\n{{ clinic }}\n",
    ),
    EmailKind.CHANGE: (
        "Your appointment has changed: {{ date }} at {{ time }}",
        "Dear {{ patient_first_name }},\n\n"
        "Your {{ service }} appointment is now with {{ practitioner }} on {{ date }} at {{ time }}"
        " at {{ location }}.\n\n{{ clinic }}\n",
    ),
    EmailKind.CANCELLATION: (
        "Your appointment on {{ date }} is cancelled",
        "Dear {{ patient_first_name }},\n\n"
        "Your {{ service }} appointment with {{ practitioner }} on {{ date }} at {{ time }} is cancelled.\n\n"
        "Please contact us to book another time.\n\n{{ clinic }}\n",
    ),
    EmailKind.REMINDER: (
        "Reminder: your appointment on {{ date }} at {{ time }}",
        "Dear {{ patient_first_name }},\n\n"
        "This is a reminder of your {{ service }} appointment with {{ practitioner }} on {{ date }}"
        " at {{ time }} at {{ location }}.\n\n{{ clinic }}\n",
    ),
    EmailKind.LETTER: (
        "{{ letter_subject }}",
        "Dear {{ patient_first_name }},\n\n{{ letter_body }}\n\n{{ clinic }}\n",
    ),
    # The video link emails say when and how to join, nothing about the care itself.
    EmailKind.ZOOM_LINK: (
        "Your video appointment link",
        "Dear {{ patient_first_name }},\n\n"
        "Your video appointment is on {{ date }} at {{ time }}.\n\n"
        "Join it from your phone, tablet or computer with this link:\n{{ join_url }}\n\n"
        "You will wait in a waiting room until your practitioner lets you in.\n\n{{ clinic }}\n",
    ),
    EmailKind.ZOOM_LINK_CHANGED: (
        "Your video appointment link has changed",
        "Dear {{ patient_first_name }},\n\n"
        "The link for your video appointment on {{ date }} at {{ time }} has changed: the link we sent"
        " you before no longer works.\n\n"
        "Join it from your phone, tablet or computer with this new link:\n{{ join_url }}\n\n"
        "You will wait in a waiting room until your practitioner lets you in.\n\n{{ clinic }}\n",
    ),
}

_engine = Engine(dirs=[], app_dirs=False, loaders=[("django.template.loaders.locmem.Loader", {})], debug=False)


def template_problems(text: str, *, required: tuple[str, ...] = ()) -> str:
    """Why `text` cannot be used as an email template, or "" if it can. `required` are
    placeholders it must show."""
    lowered = " ".join(text.split()).lower()
    for tag in FORBIDDEN_TAGS:
        if tag.replace(" ", "") in lowered.replace(" ", ""):
            return f"Templates cannot use {tag} %}}."
    try:
        _engine.from_string(text)
    except TemplateSyntaxError as exc:
        return f"Template error: {exc}"
    for name in required:
        if not re.search(r"{{\s*" + name + r"\s*}}", text):
            return f"This email must show {{{{ {name} }}}}."
    return ""


def render(text: str, values: dict[str, str]) -> str:
    """Render clinic-provided template text with plain string values (no HTML escaping: the
    message is plain text)."""
    safe = {key: str(values.get(key, "")) for key in PLACEHOLDERS}
    return _engine.from_string(text).render(Context(safe, autoescape=False))


def appointment_values(appointment, *, organisation_name: str) -> dict[str, str]:
    return {
        **_when_and_who(appointment, organisation_name=organisation_name),
        "service": appointment.service.name,
        "location": appointment.location.name,
    }


def zoom_link_values(appointment, *, join_url: str, organisation_name: str) -> dict[str, str]:
    """Values of the video link emails: who, when and the join link. No service or location:
    nothing that says what the care is."""
    return {**_when_and_who(appointment, organisation_name=organisation_name), "join_url": join_url}


def _when_and_who(appointment, *, organisation_name: str) -> dict[str, str]:
    start = timezone.localtime(appointment.start, CLINIC_ZONE)
    end = timezone.localtime(appointment.end, CLINIC_ZONE)
    return {
        **patient_values(appointment.patient, organisation_name=organisation_name),
        "practitioner": appointment.practitioner.full_name,
        "date": f"{start:%A} {start.day} {start:%B %Y}",
        "time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
    }


def patient_values(patient, *, organisation_name: str) -> dict[str, str]:
    return {
        "patient_first_name": patient.preferred_name or patient.given_name,
        "patient_name": patient.full_name,
        "clinic": organisation_name,
    }


def template_text(kind: str, templates: dict) -> tuple[str, str]:
    """(subject, body) for `kind`: the clinic's own template if it has one, else Jelly's."""
    own = templates.get(kind)
    if own is not None:
        return own.subject, own.body
    return DEFAULT_TEMPLATES[EmailKind(kind)]


@dataclass(frozen=True)
class RenderedEmail:
    to: str
    subject: str
    body: str


def render_email(kind: str, values: dict, templates: dict, *, to: str) -> RenderedEmail:
    subject, body = template_text(kind, templates)
    # A header cannot carry line breaks; the subject is one line whatever the template says.
    subject_line = " ".join(render(subject, values).split())[:200]
    return RenderedEmail(to=to, subject=subject_line, body=render(body, values))


def send_with_backend(message: RenderedEmail) -> None:
    """Django's configured email backend (SMTP in production). Raises on failure."""
    EmailMessage(
        subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to]
    ).send(fail_silently=False)
