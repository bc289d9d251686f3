"""Pages of the integrations engine.

The sync health page: is each practitioner's calendar in sync, and what failed, and why.
Admins see their organisation; practitioners see their own appointments. Both may retry a
failed row (POST). The letter page: any staff member writes to a patient by email.
Thin views: reads from `selectors`, writes through `services`.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from core.choices import ALL_ROLES, Role
from core.views import StaffRequiredMixin
from integrations import selectors, services
from integrations.choices import EmailStatus
from integrations.forms import LetterForm
from integrations.models import EmailDelivery, OutboxEntry
from patients.models import Patient
from patients.views import PatientMixin
from privacy.audit import audit_context

SYNC_ROLES = (Role.ADMIN, Role.PRACTITIONER)


class SyncHealthView(StaffRequiredMixin, TemplateView):
    template_name = "integrations/sync_health.html"
    allowed_roles = SYNC_ROLES

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["health"] = selectors.sync_health(self.request.user)
        context["is_admin"] = self.request.user.has_role(Role.ADMIN)
        return context


class OutboxEntryRetryView(StaffRequiredMixin, View):
    model = OutboxEntry
    allowed_roles = SYNC_ROLES
    http_method_names = ["post"]

    def post(self, request, pk):
        entry = get_object_or_404(selectors.outbox_entries_visible_to(request.user), pk=pk)
        if services.outbox_entry_retry(entry=entry, actor=request.user):
            messages.success(request, "Queued again: Jelly will push it to Google now.")
        else:
            messages.info(request, "That appointment is already in sync.")
        return redirect("integrations:sync-health")


class EmailDeliveryRetryView(StaffRequiredMixin, View):
    model = EmailDelivery
    allowed_roles = SYNC_ROLES
    http_method_names = ["post"]

    def post(self, request, pk):
        delivery = get_object_or_404(selectors.email_deliveries_visible_to(request.user), pk=pk)
        if services.email_delivery_retry(delivery=delivery, actor=request.user):
            messages.success(request, "The email will be sent again now.")
        else:
            messages.info(request, "That email cannot be sent again (it was sent, or not kept).")
        return redirect("integrations:sync-health")


class LetterView(PatientMixin, TemplateView):
    """Write a letter to a patient; it goes by email, as the appointment emails do."""

    template_name = "integrations/letter_form.html"
    allowed_roles = ALL_ROLES

    def render_form(self, form: LetterForm, patient: Patient, status: int = 200):
        context = self.get_context_data(
            form=form, patient=patient, cannot_email_because=services.email_skip_reason(patient)
        )
        return self.render_to_response(context, status=status)

    def get(self, request, *args, **kwargs):
        return self.render_form(LetterForm(), self.get_patient())

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        form = LetterForm(request.POST)
        if not form.is_valid():
            return self.render_form(form, patient, status=400)
        delivery = services.letter_send(
            actor=request.user,
            patient=patient,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            idempotency_key=str(form.cleaned_data["token"]),
            audit=audit_context(request),
        )
        if delivery.status == EmailStatus.SKIPPED:
            messages.warning(request, f"The letter was not sent: {delivery.skip_reason}")
        else:
            messages.success(request, "The letter is on its way: Jelly sends it by email now.")
        return redirect(self.patient_url())
