from rest_framework import permissions

from core.access import allowed_roles_for


class IsOrganisationStaff(permissions.BasePermission):
    """An active staff member of an organisation whose role the view allows.

    Views declare `allowed_roles` (all roles by default); see `core.access`.
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_role(*allowed_roles_for(view, request.method))
