"""The sync health page: is each practitioner's calendar in sync, and what failed, and why.

Admins see their organisation; practitioners see their own appointments. Both may retry a
failed row (POST). Thin views: reads from `selectors`, writes through `services`.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from core.choices import Role
from core.views import StaffRequiredMixin
from integrations import selectors, services
from integrations.models import EmailDelivery, OutboxEntry

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
