"""Organisations (clinic businesses), their locations and their staff.

Tenancy lives here: every domain row belongs to exactly one `Organisation`, and every read
of such a row goes through `TenantQuerySet.visible_to(user)` (applied by the base views,
viewsets and admin classes in `core.views`, `core.api.viewsets` and `core.admin`).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.choices import Role


def two_factor_required_by_default() -> bool:
    return settings.TWO_FACTOR_REQUIRED_BY_DEFAULT


class Organisation(models.Model):
    """A clinic business: the boundary no row ever crosses."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    require_two_factor = models.BooleanField(
        default=two_factor_required_by_default,
        help_text="Every staff member must use an authenticator app (TOTP) to sign in.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def tenant_scope(user) -> dict | None:
    """The rule that scopes rows to an organisation, as exact matches: the user's own
    organisation's rows, or nothing (None) for anonymous users and operators. Querysets apply it
    with `visible_to`; `core.db.get_each` applies the same dict to its one-statement lookups."""
    organisation_id = getattr(user, "organisation_id", None) if user.is_authenticated else None
    return None if organisation_id is None else {"organisation_id": organisation_id}


class TenantQuerySet(models.QuerySet):
    """The one place rows are scoped to an organisation."""

    def for_organisation(self, organisation):
        return self.filter(organisation=organisation)

    def visible_to(self, user):
        """Rows of the user's own organisation; nothing for anonymous users or operators."""
        scope = tenant_scope(user)
        return self.none() if scope is None else self.filter(**scope)


def _organisation_field(*, db_index: bool = True) -> models.ForeignKey:
    return models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", db_index=db_index)


def organisation_indexed_elsewhere() -> models.ForeignKey:
    """`organisation` for a tenant model that has a composite index starting with it: Django's
    own single-column index would then only slow every insert."""
    return _organisation_field(db_index=False)


class TenantModel(models.Model):
    """Base for every row that belongs to one organisation."""

    organisation = _organisation_field()

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Location(TenantModel):
    """A site where a clinic sees patients."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="location_name_unique_in_organisation"),
        ]

    def __str__(self) -> str:
        return self.name


# Who can be booked: as exact matches, for querysets and `core.db.get_each` alike.
ACTIVE_PRACTITIONER = {"role": Role.PRACTITIONER, "is_active": True}


class StaffQuerySet(TenantQuerySet):
    def practitioners(self):
        return self.filter(**ACTIVE_PRACTITIONER)


class StaffManager(BaseUserManager.from_queryset(StaffQuerySet)):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("Staff need an email address.")
        staff = self.model(email=self.normalize_email(email).lower(), **fields)
        staff.set_password(password)
        staff.full_clean(exclude=["password"])
        staff.save(using=self._db)
        return staff

    def create_superuser(self, email, password=None, **fields):
        """A hosting operator: belongs to no organisation and is not clinic staff."""
        fields.update(is_superuser=True, organisation=None, role="")
        return self.create_user(email, password, **fields)


class Staff(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to Jelly: clinic staff of one organisation, or an operator.

    Invariant (database constraint): every non-superuser belongs to an organisation and has
    a role. Operators (superusers) belong to none and see clinic data only through admin.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)

    objects = StaffManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["family_name", "given_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="staff_email_unique_case_insensitive"),
            models.CheckConstraint(
                condition=models.Q(is_superuser=True)
                | (models.Q(organisation__isnull=False) & models.Q(role__in=Role.values)),
                name="staff_in_an_organisation_with_a_role",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = (self.email or "").strip().lower()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def is_staff(self) -> bool:
        """Django admin access: operators, and each organisation's admins."""
        return self.is_active and (self.is_superuser or self.role == Role.ADMIN)

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.organisation_id is not None and self.role in roles


class ApiToken(models.Model):
    """A bearer credential for an integration acting as one staff member.

    Only a SHA-256 digest of the key is stored; the key itself is shown once, when created.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The start of the key, to recognise it.")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.staff})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
