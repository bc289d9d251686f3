"""Admin for the integrations engine, scoped to the admin's organisation.

Outbox rows and email records are read-only here (only the engine writes them); the one action
is "retry", which calls the same service as the sync health page. Rendered messages are never
shown. Templates and settings are the clinic's to edit.
"""

from django.contrib import admin, messages

from core.admin import OrganisationScopedAdmin
from integrations import services
from integrations.models import EmailDelivery, EmailTemplate, IntegrationSettings, OutboxEntry


class ReadOnlyAdmin(OrganisationScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    """Dead-lettered rows say why; "Retry" gives them a fresh retry budget."""

    list_display = [
        "id",
        "destination",
        "appointment",
        "status",
        "wanted_version",
        "pushed_version",
        "attempts",
        "next_attempt_at",
        "last_success_at",
        "last_error",
    ]
    list_filter = ["status", "destination"]
    list_select_related = ["appointment"]
    search_fields = ["last_error"]
    readonly_fields = [field.name for field in OutboxEntry._meta.fields if field.name != "organisation"]
    actions = ["retry"]

    @admin.action(description="Retry now (fresh retry budget)")
    def retry(self, request, queryset):
        done = sum(services.outbox_entry_retry(entry=entry, actor=request.user) for entry in queryset)
        self.message_user(request, f"{done} row(s) queued again.", messages.SUCCESS)


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    """What was sent to whom and when, or why not: never the message itself."""

    list_display = ["id", "kind", "patient", "appointment_start", "status", "skip_reason", "sent_at", "transport"]
    list_filter = ["status", "kind", "transport"]
    list_select_related = ["patient"]
    readonly_fields = [field.name for field in EmailDelivery._meta.fields if field.name != "organisation"]
    actions = ["retry"]

    @admin.action(description="Send again (failed emails only)")
    def retry(self, request, queryset):
        done = sum(services.email_delivery_retry(delivery=delivery, actor=request.user) for delivery in queryset)
        self.message_user(request, f"{done} email(s) queued again.", messages.SUCCESS)


class OrganisationFirstAdmin(OrganisationScopedAdmin):
    """New rows get the admin's organisation before validation, so `clean()` can use it."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        organisation_id = request.user.organisation_id

        class OrganisationFirstForm(form):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                if self.instance.organisation_id is None and organisation_id is not None:
                    self.instance.organisation_id = organisation_id

        return OrganisationFirstForm


@admin.register(EmailTemplate)
class EmailTemplateAdmin(OrganisationFirstAdmin):
    """The clinic's wording; placeholders: {{ patient_first_name }}, {{ patient_name }},
    {{ clinic }}, {{ practitioner }}, {{ service }}, {{ location }}, {{ date }}, {{ time }},
    {{ end_time }}; letters also {{ letter_subject }} and {{ letter_body }}; the video link emails
    must show {{ join_url }} (and have no {{ service }} or {{ location }})."""

    list_display = ["kind", "subject", "updated_at"]


@admin.register(IntegrationSettings)
class IntegrationSettingsAdmin(OrganisationFirstAdmin):
    """How patient names show in calendars, patient email and reminders, the clinic sender."""

    list_display = ["__str__", "patient_name_display", "appointment_emails_enabled", "reminders_enabled"]
