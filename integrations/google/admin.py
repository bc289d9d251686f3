from django.contrib import admin, messages

from core.admin import OrganisationScopedAdmin
from integrations.google.choices import ConnectionStatus
from integrations.google.models import GoogleConnection
from integrations.google.services import google_connection_disconnect


@admin.register(GoogleConnection)
class GoogleConnectionAdmin(OrganisationScopedAdmin):
    """Who has connected Google and whether it works. Tokens are never shown (not even encrypted).

    Connections are made only by their owner through Google's consent, so they cannot be added
    or edited here; an admin can disconnect one (e.g. when someone leaves), which revokes it.
    """

    list_display = ["staff", "status", "google_email", "calendar_id", "broken_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["staff__email", "staff__given_name", "staff__family_name", "google_email"]
    exclude = ["access_token", "refresh_token"]
    fields = [
        "staff",
        "status",
        "google_email",
        "granted_scopes",
        "calendar_id",
        "token_expiry",
        "broken_reason",
        "broken_at",
        "remove_pushed_events",
        "disconnect_requested_at",
        "connected_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["disconnect"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting the row would leave Jelly's grant alive at Google; disconnect revokes it.
        return False

    @admin.action(description="Disconnect (revoke at Google, delete tokens)")
    def disconnect(self, request, queryset):
        done = 0
        for connection in queryset.exclude(status=ConnectionStatus.DISCONNECTED):
            google_connection_disconnect(connection=connection, remove_pushed_events=False)
            done += 1
        self.message_user(request, f"Disconnected {done} Google connection(s).", messages.SUCCESS)
