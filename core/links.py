"""Absolute links to Jelly's pages, for anything read outside Jelly (email).

A link in an email must carry the scheme and host, and an email is usually sent by a worker with
no request to read them from (`request.build_absolute_uri` would also trust the request's Host
header), so links are built on `settings.SITE_URL`, checked at start: scheme and host only, no
trailing slash. Jelly is served at the root of that address.
"""

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args, **kwargs) -> str:
    """The full address of a Jelly page, e.g. `absolute_url("diary:appointment", pk=pk)`."""
    return site_url(reverse(viewname, args=args or None, kwargs=kwargs or None))


def site_url(path: str) -> str:
    """`SITE_URL` followed by `path`, a path on Jelly's site ("/…", as `reverse` returns)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"{path!r} is not a path on Jelly's site: it must start with a single '/'.")
    return f"{settings.SITE_URL}{path}"
