"""What can go wrong talking to Google, in the terms the callers act on.

- `TransientGoogleError`: try again later with backoff (rate limits, 429, 5xx, timeouts,
  dropped connections, Google's token endpoint unreachable).
- `PermanentGoogleError`: retrying the same call will not help (400, 403 other than rate
  limits, ...); `NotFound` and `AlreadyExists` are the two a caller usually handles.
- `ConnectionBroken`: the staff member's grant no longer works (`invalid_grant` on refresh, or
  `AuthExpired`: a 401 that survived one refresh); the caller marks the connection broken.

Messages carry Google's status, reason and message only: never tokens, never request bodies.
"""


class GoogleError(Exception):
    def __init__(self, message: str = "", *, status: int | None = None, reason: str = ""):
        super().__init__(message or reason or self.__class__.__name__)
        self.message = message
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        parts = [str(self.status) if self.status else "", self.reason, self.message]
        return " ".join(part for part in parts if part) or self.__class__.__name__


class TransientGoogleError(GoogleError):
    """Retry with backoff. `retry_after` (seconds) is Google's Retry-After, or a hint for quotas."""

    def __init__(self, message: str = "", *, status=None, reason="", retry_after: float | None = None):
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class PermanentGoogleError(GoogleError):
    """Do not retry: mark the work failed with this reason, visible to people."""


class NotFound(PermanentGoogleError):
    """404 or 410: the event (or calendar) is not there, or was already deleted."""


class AlreadyExists(PermanentGoogleError):
    """409 on insert: an event with this id exists already (possibly cancelled)."""


class ScopeNotGranted(PermanentGoogleError):
    """The connection was never granted the scope this call needs."""


class ConnectionBroken(GoogleError):
    """The stored grant no longer works; the caller marks the connection broken."""


class AuthExpired(ConnectionBroken):
    """401 from an API even after one refresh of the access token."""


class AuthorisationFailed(GoogleError):
    """The OAuth consent could not be completed; `message` is safe to show the staff member."""
