"""Who may use a view: each view declares it, and the authorisation-matrix test reads it.

A view sets `allowed_roles` to a tuple of roles, or to a dict from HTTP method to roles for
views whose reads and writes differ. `public = True` marks the few views anyone may use.
"""

from core.choices import ALL_ROLES


def allowed_roles_for(view, method: str) -> tuple[str, ...]:
    declared = getattr(view, "allowed_roles", ALL_ROLES)
    if isinstance(declared, dict):
        return tuple(declared.get(method.upper(), declared.get("*", ())))
    return tuple(declared)
