"""Choices for the Zoom integration's models."""

from django.db import models

# The key of the Zoom meeting destination in the integrations outbox (`OutboxEntry.destination`).
ZOOM_MEETING = "zoom_meeting"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    # Zoom refused our tokens (revoked, expired refresh token): nothing is called until an
    # admin reconnects, and nothing stored is lost.
    BROKEN = "broken", "Broken (reconnect needed)"
    DISCONNECTED = "disconnected", "Disconnected"


class UserCreateAction(models.TextChoices):
    """How Jelly asks Zoom to create a user (`POST /users`, field `action`)."""

    # Zoom emails an activation link; the person sets a password and can sign in to Zoom.
    CREATE = "create", "Create (Zoom emails an activation link)"
    # No password, no Zoom sign-in; only for accounts Zoom has made API partners (ISV).
    CUST_CREATE = "custCreate", "custCreate (API partner accounts only)"


class UserLinkOrigin(models.TextChoices):
    MATCHED_BY_EMAIL = "matched_by_email", "Matched by email"
    CREATED_BY_JELLY = "created_by_jelly", "Created by Jelly"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    # Valid, but nothing for Jelly to do (unknown account, a meeting Jelly does not mirror,
    # an organisation that has disconnected).
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class AuditKind(models.TextChoices):
    CREATED = "created", "Meeting created"
    UPDATED = "updated", "Meeting changed"
    DELETED = "deleted", "Meeting deleted"
    STARTED = "started", "Meeting started"
    ENDED = "ended", "Meeting ended"
    HOST_JOINED = "host_joined", "Host joined"
    HOST_LEFT = "host_left", "Host left"
    PARTICIPANT_JOINED = "participant_joined", "Participant joined"
    PARTICIPANT_LEFT = "participant_left", "Participant left"
    # A change made in Zoom that the diary's booking rules refused: not applied, flagged for
    # staff, and the meeting set back to the appointment's time.
    CHANGE_REFUSED = "change_refused", "Change in Zoom refused"


class AuditSource(models.TextChoices):
    JELLY = "jelly", "Jelly"
    ZOOM = "zoom", "Zoom"
