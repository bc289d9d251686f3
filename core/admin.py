"""Django admin, scoped: an organisation's admins see and change only their organisation.

`OrganisationScopedAdmin` is the base for every tenant model's admin in every app. Operators
(superusers) see everything; other roles never reach admin (`Staff.is_staff`).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.choices import Role
from core.models import ApiToken, Location, Organisation, Staff

admin.site.site_header = "Jelly administration"
admin.site.site_title = "Jelly"


def is_organisation_admin(request) -> bool:
    return request.user.is_active and request.user.has_role(Role.ADMIN)


class OrganisationScopedAdmin(admin.ModelAdmin):
    """Rows of the signed-in admin's organisation only; new rows land in it.

    `organisation_path` is the lookup from the model to its organisation.
    """

    organisation_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if not is_organisation_admin(request):
            return queryset.none()
        return queryset.filter(**{self.organisation_path: request.user.organisation_id})

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self.organisation_path == "organisation":
            exclude.append("organisation")
        return exclude

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and self.organisation_path == "organisation" and not change:
            obj.organisation = request.user.organisation
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and hasattr(related.objects, "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user)
        elif not request.user.is_superuser and related is Organisation:
            kwargs["queryset"] = Organisation.objects.filter(pk=request.user.organisation_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and hasattr(related.objects, "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.is_superuser or is_organisation_admin(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or is_organisation_admin(request)

    def has_add_permission(self, request):
        return request.user.is_superuser or is_organisation_admin(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or is_organisation_admin(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser or is_organisation_admin(request)


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_path = "pk"
    list_display = ["name", "slug", "require_two_factor", "created_at"]
    search_fields = ["name", "slug"]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["slug"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Location)
class LocationAdmin(OrganisationScopedAdmin):
    list_display = ["name", "postcode", "is_active"]
    search_fields = ["name", "postcode"]


class StaffCreationForm(AdminUserCreationForm):
    class Meta:
        model = Staff
        fields = ["email", "given_name", "family_name", "role"]


class StaffChangeForm(UserChangeForm):
    class Meta:
        model = Staff
        fields = "__all__"


@admin.register(Staff)
class StaffAdmin(OrganisationScopedAdmin, UserAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    ordering = ["family_name", "given_name", "email"]
    list_display = ["email", "given_name", "family_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "given_name", "family_name"]
    filter_horizontal: list[str] = []
    readonly_fields = ["last_login", "date_joined"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ["email", "given_name", "family_name", "role", "password1", "password2"]
            if request.user.is_superuser:
                fields.insert(0, "organisation")
            return [(None, {"classes": ["wide"], "fields": fields})]
        access = ["role", "is_active"]
        if request.user.is_superuser:
            access = ["organisation", *access, "is_superuser"]
        return [
            (None, {"fields": ["email", "password"]}),
            ("Name", {"fields": ["given_name", "family_name"]}),
            ("Access", {"fields": access}),
            ("Dates", {"fields": ["last_login", "date_joined"]}),
        ]

    def get_exclude(self, request, obj=None):
        return []

    def get_list_filter(self, request):
        return ["role", "is_active"]


@admin.register(ApiToken)
class ApiTokenAdmin(OrganisationScopedAdmin):
    """Tokens are issued with `create_api_token`; here they can be seen and revoked."""

    organisation_path = "staff__organisation"
    list_display = ["prefix", "staff", "name", "created_at", "last_used_at", "revoked_at"]
    fields = ["staff", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["staff", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


# Staff get their rights from their role; Django's groups would be a second, unscoped system.
admin.site.unregister(Group)
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class ScopedTOTPDeviceAdmin(OrganisationScopedAdmin):
    """Deleting a staff member's device resets their two-factor enrolment.

    The shared secret is never shown here: only its owner sees it, once, when enrolling.
    """

    organisation_path = "user__organisation"
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = ["user", "confirmed", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
