"""Diary admin, scoped to the admin's organisation.

Setup (services, rooms, working hours, time off) is edited here through model forms, whose
validation runs the models' `clean()`. Appointments are read-only here: the only changes admin
offers are actions that call `diary.services`, so there is no second write path around the
booking rules.
"""

from django.contrib import admin, messages

from core.admin import OrganisationScopedAdmin
from core.exceptions import DomainError
from diary import services
from diary.choices import AppointmentStatus
from diary.models import Appointment, AppointmentChange, Room, Service, TimeOff, WorkingHours


class OrganisationFirstAdmin(OrganisationScopedAdmin):
    """New rows get the admin's organisation before validation, so `clean()` can compare it."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        organisation_id = request.user.organisation_id

        class OrganisationFirstForm(form):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                if self.instance.organisation_id is None and organisation_id is not None:
                    self.instance.organisation_id = organisation_id

        return OrganisationFirstForm


@admin.register(Service)
class ServiceAdmin(OrganisationFirstAdmin):
    list_display = ["name", "duration_minutes", "price", "colour", "is_telehealth", "is_active"]
    list_filter = ["is_telehealth", "is_active"]
    search_fields = ["name"]


@admin.register(Room)
class RoomAdmin(OrganisationFirstAdmin):
    list_display = ["name", "location", "is_active"]
    search_fields = ["name"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(OrganisationFirstAdmin):
    list_display = ["practitioner", "weekday", "start_time", "end_time", "location"]
    list_filter = ["weekday"]


@admin.register(TimeOff)
class TimeOffAdmin(OrganisationFirstAdmin):
    list_display = ["practitioner", "start", "end", "reason"]
    date_hierarchy = "start"


@admin.register(Appointment)
class AppointmentAdmin(OrganisationScopedAdmin):
    """Read-only; cancel or mark did-not-attend with the actions (through the services)."""

    list_display = ["start", "end", "practitioner", "patient", "service", "location", "status", "version"]
    list_filter = ["status"]
    date_hierarchy = "start"
    list_select_related = ["practitioner", "patient", "service", "location"]
    actions = ["cancel_appointments", "mark_did_not_attend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _apply(self, request, queryset, change, done: str):
        succeeded, refused = 0, []
        for appointment in queryset:
            try:
                change(appointment)
                succeeded += 1
            except DomainError as error:
                refused.append(f"{appointment}: {error.message}")
        if succeeded:
            self.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Cancel the selected appointments")
    def cancel_appointments(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda a: services.appointment_cancel(actor=request.user, appointment=a, reason="Cancelled in admin"),
            "cancelled",
        )

    @admin.action(description="Mark the selected appointments did not attend")
    def mark_did_not_attend(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda a: services.appointment_set_status(
                actor=request.user, appointment=a, status=AppointmentStatus.DID_NOT_ATTEND
            ),
            "marked did not attend",
        )


@admin.register(AppointmentChange)
class AppointmentChangeAdmin(OrganisationScopedAdmin):
    """The change records the integrations read: never edited."""

    list_display = ["id", "at", "kind", "appointment", "version", "by"]
    list_filter = ["kind"]
    list_select_related = ["appointment", "by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
