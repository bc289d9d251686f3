"""Who may connect Google for what.

Practitioners and admins may connect their own account for both purposes: practitioners have
diaries, and an admin may also see patients. Receptionists have no diary, but a clinic may
designate one of them as the account its patient email is sent from, so they may connect
Gmail (send-only) and not Calendar. Nobody ever connects an account for someone else.
"""

from core.choices import Role
from integrations.google.choices import Purpose

PURPOSES_BY_ROLE = {
    Role.ADMIN: (Purpose.CALENDAR, Purpose.GMAIL),
    Role.PRACTITIONER: (Purpose.CALENDAR, Purpose.GMAIL),
    Role.RECEPTIONIST: (Purpose.GMAIL,),
}


def purposes_allowed(staff) -> tuple[str, ...]:
    if not staff.is_active or staff.organisation_id is None:
        return ()
    return tuple(PURPOSES_BY_ROLE.get(staff.role, ()))
