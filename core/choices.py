from django.db import models


class Role(models.TextChoices):
    """What a staff member may do in their organisation (see docs/ARCHITECTURE.md)."""

    ADMIN = "admin", "Admin"
    PRACTITIONER = "practitioner", "Practitioner"
    RECEPTIONIST = "receptionist", "Receptionist"


ALL_ROLES = tuple(Role.values)
