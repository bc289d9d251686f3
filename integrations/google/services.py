"""Writes for Google connections. Each is one short transaction; calls to Google (revoke) happen
before it, never inside it. Tokens are never logged."""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.models import Staff
from integrations.google import oauth
from integrations.google.choices import ConnectionStatus
from integrations.google.models import GoogleConnection

logger = logging.getLogger(__name__)

USABLE_STATUSES = (ConnectionStatus.CONNECTED, ConnectionStatus.DISCONNECTING)


class GoogleConnectionError(Exception):
    """A connection rule was broken; the message is safe to show the staff member."""


@dataclass(frozen=True)
class DisconnectOutcome:
    connection: GoogleConnection
    # True: Google confirmed the grant is revoked; False: Google could not be reached (the
    # tokens are deleted anyway); None: not yet, the pushed events are being removed first.
    revoked: bool | None


@transaction.atomic
def google_connection_store(*, staff: Staff, tokens: oauth.GrantedTokens) -> GoogleConnection:
    """Keep the tokens of a completed consent: the staff member's connection is (re)connected.

    The newest grant covers every scope granted before (incremental authorisation), so its
    tokens and granted scopes replace the stored ones. A broken or disconnected connection
    becomes connected again; the outbox reconciles what is in the calendar.
    """
    connection = GoogleConnection.objects.select_for_update().filter(staff=staff).first()
    if connection is None:
        connection = GoogleConnection(staff=staff, organisation_id=staff.organisation_id)
    refresh_token = tokens.refresh_token or (connection.refresh_token if connection.status in USABLE_STATUSES else "")
    if not refresh_token:
        raise GoogleConnectionError("Google did not give Jelly lasting access. Please connect again and allow access.")
    now = timezone.now()
    connection.access_token = tokens.access_token
    connection.refresh_token = refresh_token
    connection.token_expiry = tokens.expiry
    connection.granted_scopes = sorted(set(tokens.granted_scopes))
    connection.status = ConnectionStatus.CONNECTED
    connection.broken_reason = ""
    connection.broken_at = None
    connection.broken_notice_sent_at = None
    connection.remove_pushed_events = False
    connection.disconnect_requested_at = None
    connection.connected_at = now
    connection.full_clean()
    connection.save()
    logger.info("Google connected for staff %s (scopes: %s)", staff.pk, " ".join(connection.granted_scopes))
    _reconcile_after_commit(staff)
    return connection


def _reconcile_after_commit(staff: Staff) -> None:
    """(Re)connecting or asking for pushed events to be removed: the outbox reconciles this
    staff member's calendar once the change is committed (deterministic event ids: no duplicates)."""
    from integrations.services import google_calendar_reconcile_later

    google_calendar_reconcile_later(staff_id=staff.pk)


def google_connection_save_tokens(tokens: oauth.GrantedTokens, *, connection: GoogleConnection) -> bool:
    """Persist a refreshed access token (and a rotated refresh token, if Google sent one).

    Conditional on the connection still being usable, so a refresh finishing after a disconnect
    cannot bring its tokens back. Returns whether anything was saved.
    """
    changes = {
        "access_token": tokens.access_token,
        "token_expiry": tokens.expiry,
        "updated_at": timezone.now(),
    }
    if tokens.refresh_token:
        changes["refresh_token"] = tokens.refresh_token
    if tokens.granted_scopes:
        changes["granted_scopes"] = sorted(set(tokens.granted_scopes))
    saved = GoogleConnection.objects.filter(pk=connection.pk, status__in=USABLE_STATUSES).update(**changes)
    if saved:
        connection.access_token = tokens.access_token
        connection.token_expiry = tokens.expiry
        if tokens.refresh_token:
            connection.refresh_token = tokens.refresh_token
    return bool(saved)


def google_connection_refresh(*, connection: GoogleConnection) -> GoogleConnection:
    """Refresh the access token now and persist it. Raises ConnectionBroken if the grant is gone
    (the caller marks the connection broken), TransientGoogleError if Google is unreachable."""
    tokens = oauth.refresh(oauth.credentials_for(connection))
    google_connection_save_tokens(tokens, connection=connection)
    return connection


def google_connection_mark_broken(*, connection: GoogleConnection, reason: str, same_grant: bool = False) -> bool:
    """Stop using a connection whose grant Google refuses, and say why and when.

    Only a usable connection becomes broken, so a late failure cannot undo a disconnect. With
    `same_grant`, only if it was not reconnected since `connection` was loaded (a worker's
    cached credentials from an older grant must not break a fresh one). The staff member sees
    it on their Google page and reconnects.
    """
    now = timezone.now()
    rows = GoogleConnection.objects.filter(pk=connection.pk, status__in=USABLE_STATUSES)
    if same_grant:
        rows = rows.filter(connected_at=connection.connected_at)
    updated = rows.update(status=ConnectionStatus.BROKEN, broken_reason=reason[:300], broken_at=now, updated_at=now)
    if updated:
        connection.status, connection.broken_reason, connection.broken_at = ConnectionStatus.BROKEN, reason[:300], now
        logger.warning("Google connection %s of staff %s is broken: %s", connection.pk, connection.staff_id, reason)
    return bool(updated)


def google_connection_disconnect(*, connection: GoogleConnection, remove_pushed_events: bool) -> DisconnectOutcome:
    """The staff member disconnects Google.

    Without event removal: the grant is revoked at Google, then the tokens are deleted here.
    With it, and a working grant: the connection waits in `disconnecting` with its tokens, so
    the outbox worker can still delete the events it pushed; it then calls
    `google_connection_finish_disconnect`. Revoking first would leave it no way to do that.
    """
    if remove_pushed_events and connection.status in USABLE_STATUSES:
        now = timezone.now()
        GoogleConnection.objects.filter(pk=connection.pk, status__in=USABLE_STATUSES).update(
            status=ConnectionStatus.DISCONNECTING,
            remove_pushed_events=True,
            disconnect_requested_at=now,
            updated_at=now,
        )
        connection.refresh_from_db()
        logger.info("Google connection %s: disconnect requested, removing pushed events first", connection.pk)
        _reconcile_after_commit(connection.staff)
        return DisconnectOutcome(connection=connection, revoked=None)
    return google_connection_finish_disconnect(connection=connection, remove_pushed_events=remove_pushed_events)


def google_connection_finish_disconnect(
    *, connection: GoogleConnection, remove_pushed_events: bool | None = None
) -> DisconnectOutcome:
    """Revoke the grant at Google (outside any transaction), then delete the tokens here.

    The tokens are deleted even when Google cannot be reached; `revoked` is then False and the
    staff member is told to remove Jelly at https://myaccount.google.com/permissions.
    """
    connection.refresh_from_db()
    token = connection.refresh_token or connection.access_token
    revoked = oauth.revoke(token) if token else True
    now = timezone.now()
    with transaction.atomic():
        locked = GoogleConnection.objects.select_for_update().get(pk=connection.pk)
        locked.access_token = ""
        locked.refresh_token = ""
        locked.token_expiry = None
        locked.granted_scopes = []
        locked.status = ConnectionStatus.DISCONNECTED
        if remove_pushed_events is not None:
            locked.remove_pushed_events = remove_pushed_events
        locked.disconnect_requested_at = locked.disconnect_requested_at or now
        locked.full_clean()
        locked.save()
    logger.info("Google connection %s disconnected (revoked at Google: %s)", connection.pk, revoked)
    return DisconnectOutcome(connection=locked, revoked=revoked)
