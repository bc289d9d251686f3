"""Admin for privacy: the organisation's own consent purposes (editable), and read-only views of
the audit log, consent records, objections, disclosure decisions and break-glass grants.

Records here are written only by `privacy.services` (pages and API), so admin never adds,
changes or deletes them. Disclosure packages are not shown (they may hold note content).
"""

from django.contrib import admin

from core.admin import OrganisationScopedAdmin
from privacy.models import (
    AuditEntry,
    BreakGlassGrant,
    Consent,
    CustomConsentPurpose,
    Disclosure,
    ErasureRequest,
    NhsNumberObjection,
)


class ReadOnlyScopedAdmin(OrganisationScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomConsentPurpose)
class CustomConsentPurposeAdmin(OrganisationScopedAdmin):
    list_display = ["label", "code", "is_active"]
    fields = ["code", "label", "is_active"]

    def get_fields(self, request, obj=None):
        return ["organisation", *self.fields] if request.user.is_superuser else self.fields

    def has_delete_permission(self, request, obj=None):
        # Consent records name the code; retire a purpose by making it inactive.
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyScopedAdmin):
    list_display = ["sequence", "occurred_at", "actor_name", "actor_role", "action", "object_type", "purpose"]
    list_filter = ["action", "purpose", "actor_role"]
    search_fields = ["actor_name", "=object_id"]
    fields = [
        "sequence",
        "occurred_at",
        "actor_name",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "ip_address",
        "purpose",
        "reason",
        "details",
        "previous_hash",
        "entry_hash",
    ]
    readonly_fields = fields
    ordering = ["-sequence"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyScopedAdmin):
    list_display = ["patient", "purpose", "decision", "method", "recorded_at", "expires_at"]
    list_filter = ["purpose", "decision"]
    fields = ["patient", "purpose", "decision", "method", "recorded_by", "recorded_at", "expires_at", "evidence"]
    readonly_fields = fields
    list_select_related = ["patient"]


@admin.register(NhsNumberObjection)
class NhsNumberObjectionAdmin(ReadOnlyScopedAdmin):
    list_display = ["patient", "recorded_at", "method", "withdrawn_at"]
    fields = [
        "patient",
        "recorded_at",
        "recorded_by",
        "method",
        "note",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_method",
        "withdrawal_note",
    ]
    readonly_fields = fields
    list_select_related = ["patient"]


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "requested_at",
        "patient",
        "recipient_name",
        "recipient_category",
        "purpose",
        "allowed",
        "released_at",
    ]
    list_filter = ["allowed", "recipient_category", "purpose"]
    fields = [
        "patient",
        "requested_by",
        "requested_at",
        "recipient_category",
        "recipient_name",
        "recipient_details",
        "purpose",
        "lawful_basis",
        "legal_reference",
        "data_categories_requested",
        "allowed",
        "data_categories_released",
        "reasons",
        "checked_state",
        "released_at",
    ]
    readonly_fields = fields
    list_select_related = ["patient"]


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyScopedAdmin):
    list_display = ["granted_at", "practitioner", "patient", "expires_at", "reviewed_at"]
    fields = [
        "patient",
        "practitioner",
        "reason",
        "granted_at",
        "expires_at",
        "reviewed_at",
        "reviewed_by",
        "review_note",
    ]
    readonly_fields = fields
    list_select_related = ["patient", "practitioner"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyScopedAdmin):
    list_display = ["recorded_at", "patient", "recorded_by", "method"]
    fields = ["patient", "recorded_at", "recorded_by", "method", "details"]
    readonly_fields = fields
    list_select_related = ["patient", "recorded_by"]
