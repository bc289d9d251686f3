"""How a call to Zoom failed, classified so callers know whether to retry.

- `TransientZoomError`: try again later (429, 5xx, timeouts, dropped connections).
  `retry_after` is Zoom's `Retry-After` hint in seconds, when it sent one.
- `PermanentZoomError`: retrying will not help (400, 403, 409…); mark and stop.
- `ZoomAuthExpired`: Zoom refused our tokens even after one refresh; the connection is broken
  until an admin reconnects.
- `ZoomNotFound`: the user or meeting does not exist (404, e.g. meeting code 3001).

Messages never contain tokens or request bodies.
"""


class ZoomError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class TransientZoomError(ZoomError):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None, retry_after=None):
        super().__init__(message, status=status, code=code)
        self.retry_after: float | None = retry_after


class PermanentZoomError(ZoomError):
    pass


class ZoomAuthExpired(PermanentZoomError):
    pass


class ZoomNotFound(PermanentZoomError):
    pass


class ZoomIntegrationError(Exception):
    """A rule of the Zoom integration refused an action (not connected, already linked…).

    Services raise only this; views turn it into a message for the admin.
    """
