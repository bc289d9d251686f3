"""All HTTP to Zoom goes through one `requests.Session`, always with a timeout."""

import email.utils
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from integrations.zoom.errors import (
    PermanentZoomError,
    TransientZoomError,
    ZoomAuthExpired,
    ZoomNotFound,
)

USER_AGENT = "Jelly-Zoom-Integration/1.0"

_local = threading.local()


def session() -> requests.Session:
    """One session per thread (a Session is not guaranteed thread-safe), reused for keep-alive."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.headers["User-Agent"] = USER_AGENT
        _local.session = current
    return current


def timeout() -> tuple[float, float]:
    seconds = float(settings.ZOOM_HTTP_TIMEOUT_SECONDS)
    return (seconds, seconds)


def send(method: str, url: str, **kwargs: Any) -> requests.Response:
    """Send a request; transport failures become `TransientZoomError` (never a token in the text)."""
    kwargs.setdefault("timeout", timeout())
    kwargs.setdefault("allow_redirects", False)
    try:
        return session().request(method, url, **kwargs)
    except requests.Timeout as exc:
        raise TransientZoomError(f"Zoom did not answer {method} {_path(url)} in time") from exc
    except requests.ConnectionError as exc:
        raise TransientZoomError(f"Could not reach Zoom for {method} {_path(url)}") from exc


def _path(url: str) -> str:
    return urlsplit(url).path


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date (Zoom's daily limits)."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_body(response: requests.Response) -> tuple[int | None, str]:
    """Zoom's `{"code": …, "message": …}`, or the OAuth endpoints' `{"error", "reason"}`."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    message = body.get("message") or body.get("reason") or body.get("error") or ""
    return (code if isinstance(code, int) else None), str(message)[:200]


def raise_for_status(response: requests.Response, what: str) -> None:
    """Classify a non-2xx answer from the API."""
    status = response.status_code
    if status < 400:
        return
    code, message = error_body(response)
    text = f"{what}: Zoom answered {status}" + (f" (code {code}: {message})" if code or message else "")
    if status == 429:
        raise TransientZoomError(text, status=status, code=code, retry_after=retry_after_seconds(response))
    if status >= 500:
        raise TransientZoomError(text, status=status, code=code, retry_after=retry_after_seconds(response))
    if status == 401:
        raise ZoomAuthExpired(text, status=status, code=code)
    if status == 404:
        raise ZoomNotFound(text, status=status, code=code)
    raise PermanentZoomError(text, status=status, code=code)
