"""Patient email through a staff member's Gmail (gmail.send only: Jelly never reads mail).

The message is built with Python's `email` package (`client.build_message`) and sent as
`raw`. Gmail's answer (message and thread ids) is not kept. Gmail fills in From: the connected
account. A timeout or dropped connection leaves it unknown whether Gmail took the message, so
callers must not resend automatically (see `AMBIGUOUS_REASONS`).
"""

from integrations.google.client import GmailClient, build_message
from integrations.google.models import GoogleConnection

# Transient reasons after which the message may or may not have been sent.
AMBIGUOUS_REASONS = frozenset({"timeout", "connection"})


def gmail_sender(*candidates: GoogleConnection | None) -> GoogleConnection | None:
    """The first connection that may send mail now."""
    return next((connection for connection in candidates if connection is not None and connection.has_gmail), None)


def send_via_gmail(connection: GoogleConnection, *, to: str, subject: str, text: str) -> None:
    """Send one plain-text message as the connection's Google account. Raises the Google
    exceptions (`TransientGoogleError`, `PermanentGoogleError`, `ConnectionBroken`)."""
    GmailClient.for_connection(connection).send(build_message(to=to, subject=subject, text=text))
