"""Zoom rows in Django admin: read-only (changes go through the Zoom settings page and its
services), scoped to the admin's organisation, and tokens are never shown."""

from django.contrib import admin

from core.admin import OrganisationScopedAdmin
from integrations.zoom.models import (
    ZoomAuditEntry,
    ZoomConnection,
    ZoomMeeting,
    ZoomMeetingRequest,
    ZoomUserLink,
    ZoomWebhookDelivery,
)


class ReadOnlyZoomAdmin(OrganisationScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ZoomConnection)
class ZoomConnectionAdmin(ReadOnlyZoomAdmin):
    list_display = ["organisation", "status", "zoom_account_id", "access_token_expires_at", "connected_at"]
    list_filter = ["status"]
    # access_token and refresh_token are deliberately absent.
    fields = [
        "organisation",
        "status",
        "status_reason",
        "zoom_account_id",
        "access_token_expires_at",
        "scopes",
        "retain_data_on_uninstall",
        "create_users_with_cust_create",
        "auto_create_for_telehealth",
        "connected_by",
        "connected_at",
        "disconnected_at",
        "updated_at",
    ]
    readonly_fields = fields


@admin.register(ZoomUserLink)
class ZoomUserLinkAdmin(ReadOnlyZoomAdmin):
    list_display = ["staff", "zoom_user_id", "origin", "created_at"]
    fields = ["staff", "zoom_user_id", "origin", "created_at"]
    readonly_fields = fields


@admin.register(ZoomMeeting)
class ZoomMeetingAdmin(ReadOnlyZoomAdmin):
    list_display = [
        "zoom_meeting_id",
        "host_zoom_user_id",
        "synced_start_time",
        "retired_at",
        "deleted_at",
        "flagged_at",
    ]
    # join_url carries the meeting passcode: not shown here.
    fields = [
        "zoom_meeting_id",
        "host_zoom_user_id",
        "appointment",
        "synced_start_time",
        "synced_duration_minutes",
        "synced_at",
        "update_pending",
        "created_at",
        "retired_at",
        "deleted_at",
        "flagged_at",
        "flag_reason",
    ]
    readonly_fields = fields


@admin.register(ZoomMeetingRequest)
class ZoomMeetingRequestAdmin(ReadOnlyZoomAdmin):
    list_display = ["requested_at", "requested_by", "withdrawn_at", "create_started_at"]
    fields = [
        "appointment",
        "requested_by",
        "requested_at",
        "withdrawn_at",
        "withdrawn_reason",
        "create_started_for",
        "create_started_at",
    ]
    readonly_fields = fields


@admin.register(ZoomAuditEntry)
class ZoomAuditEntryAdmin(ReadOnlyZoomAdmin):
    list_display = ["occurred_at", "kind", "source", "zoom_meeting_id", "participant_display_name"]
    list_filter = ["kind", "source"]
    fields = [
        "occurred_at",
        "kind",
        "source",
        "zoom_meeting_id",
        "meeting",
        "participant_display_name",
        "participant_user_id",
        "participant_zoom_user_id",
        "recorded_at",
    ]
    readonly_fields = fields


@admin.register(ZoomWebhookDelivery)
class ZoomWebhookDeliveryAdmin(ReadOnlyZoomAdmin):
    list_display = ["received_at", "event", "status", "attempts", "last_error", "processed_at"]
    list_filter = ["status", "event"]
    # The payload (while unprocessed) may name participants: not shown.
    fields = ["event", "event_ts", "zoom_account_id", "status", "attempts", "last_error", "received_at", "processed_at"]
    readonly_fields = fields
