from django.db import models

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
GMAIL_SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"


class Purpose(models.TextChoices):
    """What a staff member connects Google for; each asks for exactly one scope, nothing else."""

    CALENDAR = "calendar", "Google Calendar"
    GMAIL = "gmail", "Gmail (sending only)"


PURPOSE_SCOPES = {Purpose.CALENDAR: CALENDAR_SCOPE, Purpose.GMAIL: GMAIL_SEND_SCOPE}


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    # Google refused the tokens (revoked, expired, password change): nothing is pushed until
    # the staff member reconnects.
    BROKEN = "broken", "Broken: reconnect needed"
    # The staff member asked for the events already pushed to be removed first; tokens are kept
    # until the outbox worker has removed them, then revoked and deleted.
    DISCONNECTING = "disconnecting", "Disconnecting: removing pushed events"
    DISCONNECTED = "disconnected", "Disconnected"
