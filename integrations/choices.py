from django.db import models


class OutboxStatus(models.TextChoices):
    """Where an outbox row is. Level-triggered: `pending` means "the remote side may be behind"."""

    PENDING = "pending", "Pending"
    DONE = "done", "In sync"
    # The connection it needs is broken; nothing is tried until its owner reconnects.
    BLOCKED = "blocked", "Blocked: connection broken"
    # The retry budget ran out, or the provider refused for good: a person has to look.
    DEAD = "dead", "Failed"


class PatientNameDisplay(models.TextChoices):
    """How a patient's name appears in a practitioner's Google Calendar."""

    FULL_NAME = "full_name", "Full name (John Smith)"
    FIRST_NAME_INITIAL = "first_name_initial", "First name and initial (John S.)"
    INITIALS = "initials", "Initials (J.S.)"
    PATIENT = "patient", "“Patient” only"


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Appointment confirmation"
    CHANGE = "change", "Appointment changed"
    CANCELLATION = "cancellation", "Appointment cancelled"
    REMINDER = "reminder", "Appointment reminder"
    LETTER = "letter", "Letter"
    ZOOM_LINK = "zoom_link", "Video appointment link"
    ZOOM_LINK_CHANGED = "zoom_link_changed", "Video appointment link changed"


# Emails that carry an appointment's Zoom join link: they must always carry the live meeting's.
ZOOM_LINK_KINDS = frozenset({EmailKind.ZOOM_LINK, EmailKind.ZOOM_LINK_CHANGED})


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    # Claimed by a worker and handed to Gmail/SMTP. A worker that dies here leaves it unknown
    # whether the message went, so it is never sent again automatically (see services).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent"
    DEAD = "dead", "Failed"


class EmailTransport(models.TextChoices):
    GMAIL = "gmail", "Gmail"
    BACKEND = "backend", "Jelly's mail server"
