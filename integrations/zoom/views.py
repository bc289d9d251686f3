"""Zoom pages for organisation admins, and the public (signed) webhook endpoint."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import ListView, TemplateView

from core.choices import Role
from core.views import StaffRequiredMixin
from integrations.zoom import oauth, selectors, services, webhooks
from integrations.zoom.errors import TransientZoomError, ZoomAuthExpired, ZoomError, ZoomIntegrationError
from integrations.zoom.forms import KEEP, CreateZoomUserForm, DisconnectForm, PreferencesForm
from integrations.zoom.models import ZoomAuditEntry

logger = logging.getLogger(__name__)

ADMINS = (Role.ADMIN,)


def zoom_failure_message(exc: ZoomError) -> str:
    if isinstance(exc, ZoomAuthExpired):
        return "Zoom refused Jelly's access. An admin needs to reconnect Zoom."
    if isinstance(exc, TransientZoomError):
        return "Zoom is not answering right now. Please try again in a minute."
    return f"Zoom refused the request: {exc}"


class ZoomAdminView(StaffRequiredMixin, View):
    """Base for the Zoom pages: organisation admins only; actions redirect back to settings."""

    allowed_roles = ADMINS

    def back(self):
        return redirect("zoom:settings")


class ZoomSettingsView(StaffRequiredMixin, TemplateView):
    allowed_roles = ADMINS
    template_name = "zoom/settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connection = selectors.connection_visible_to(self.request.user)
        context.update(
            connection=connection,
            zoom_configured=bool(settings.ZOOM_CLIENT_ID),
            preferences_form=PreferencesForm(
                initial={
                    "retain_data_on_uninstall": bool(connection and connection.retain_data_on_uninstall),
                    "create_users_with_cust_create": bool(connection and connection.create_users_with_cust_create),
                }
            ),
            # Deleting is never preselected: the admin chooses it.
            disconnect_form=DisconnectForm(
                initial={"zoom_data": KEEP} if connection and connection.retain_data_on_uninstall else {}
            ),
            create_user_form=CreateZoomUserForm(user=self.request.user),
            staff_rows=selectors.staff_with_zoom_links(self.request.user),
        )
        return context


class ZoomConnectView(ZoomAdminView):
    def post(self, request):
        if not settings.ZOOM_CLIENT_ID:
            messages.error(request, "Zoom is not set up on this Jelly server (ZOOM_CLIENT_ID is empty).")
            return self.back()
        redirect_uri = request.build_absolute_uri(reverse("zoom:oauth-callback"))
        return redirect(oauth.install_begin(request, redirect_uri=redirect_uri))


class ZoomOAuthCallbackView(ZoomAdminView):
    """Zoom sends the admin back here with `code` and `state` after they approve the install."""

    def get(self, request):
        if request.GET.get("error"):
            request.session.pop(oauth.SESSION_KEY, None)
            messages.error(request, "Zoom was not connected: access was not granted in Zoom.")
            return self.back()
        try:
            grant = oauth.install_finish(request, state=request.GET.get("state", ""), code=request.GET.get("code", ""))
            services.connection_install(organisation=request.user.organisation, grant=grant, staff=request.user)
        except ZoomIntegrationError as exc:
            messages.error(request, str(exc))
        except ZoomError as exc:
            logger.warning("Connecting Zoom failed for organisation %s: %s", request.user.organisation_id, exc)
            messages.error(request, f"Zoom could not be connected. {zoom_failure_message(exc)}")
        else:
            messages.success(request, "Zoom is connected.")
        return self.back()


class ZoomPreferencesView(ZoomAdminView):
    def post(self, request):
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.connection_preferences_update(organisation=request.user.organisation, **form.cleaned_data)
            messages.success(request, "Zoom settings saved.")
        return self.back()


class ZoomDisconnectView(ZoomAdminView):
    def post(self, request):
        form = DisconnectForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose whether to keep or delete your organisation's Zoom data.")
            return self.back()
        result = services.connection_uninstall(
            organisation=request.user.organisation,
            reason=f"Disconnected in Jelly by {request.user}.",
            retain_data=form.retain_data,
        )
        if result.retained_data:
            messages.success(request, "Zoom is disconnected. Your Zoom data is kept, read-only.")
        else:
            messages.success(request, "Zoom is disconnected and your organisation's Zoom data is deleted.")
        return self.back()


class ZoomLinkUsersView(ZoomAdminView):
    def post(self, request):
        try:
            result = services.user_links_match_by_email(organisation=request.user.organisation)
        except ZoomIntegrationError as exc:
            messages.error(request, str(exc))
        except ZoomError as exc:
            messages.error(request, zoom_failure_message(exc))
        else:
            messages.success(
                request, f"Linked {result.linked} staff to Zoom users; {result.still_unlinked} have no Zoom user."
            )
        return self.back()


class ZoomCreateUserView(ZoomAdminView):
    def post(self, request):
        form = CreateZoomUserForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, "Choose a staff member who has no Zoom user yet.")
            return self.back()
        staff = form.cleaned_data["staff"]
        try:
            services.zoom_user_create_for_staff(organisation=request.user.organisation, staff=staff)
        except ZoomIntegrationError as exc:
            messages.error(request, str(exc))
        except ZoomError as exc:
            messages.error(request, zoom_failure_message(exc))
        else:
            connection = selectors.connection_visible_to(request.user)
            if connection and connection.create_users_with_cust_create:
                messages.success(request, f"Zoom user created for {staff} (custCreate: no Zoom sign-in).")
            else:
                messages.success(request, f"Zoom user created for {staff}; Zoom has emailed them an activation link.")
        return self.back()


class ZoomAuditListView(StaffRequiredMixin, ListView):
    allowed_roles = ADMINS
    model = ZoomAuditEntry
    template_name = "zoom/audit_list.html"
    context_object_name = "entries"
    paginate_by = 100

    def get_queryset(self):
        return selectors.audit_entries_visible_to(self.request.user)


@csrf_exempt
@require_POST
def webhook(request):
    """Zoom's event notifications. Public (Zoom has no session), so every request must carry
    Zoom's signature; the work is queued so Zoom gets its answer within its 3 seconds."""
    raw_body = request.body
    try:
        webhooks.verify_signature(
            raw_body=raw_body,
            timestamp=request.headers.get(webhooks.TIMESTAMP_HEADER, ""),
            signature=request.headers.get(webhooks.SIGNATURE_HEADER, ""),
            secret=settings.ZOOM_WEBHOOK_SECRET_TOKEN or "",
        )
        event = webhooks.parse_event(raw_body)
    except webhooks.WebhookRejected as exc:
        # The reason only: the body may hold participants' names and is never logged.
        logger.warning("Zoom webhook refused with %s: %s", exc.status, exc.reason)
        detail = "Signature not valid." if exc.status == 401 else "Not a usable Zoom event."
        return JsonResponse({"detail": detail}, status=exc.status)
    if event.name == webhooks.URL_VALIDATION:
        return JsonResponse(
            webhooks.url_validation_answer(
                plain_token=event.payload["plainToken"], secret=settings.ZOOM_WEBHOOK_SECRET_TOKEN
            )
        )
    services.webhook_delivery_receive(event=event)
    return HttpResponse(status=200)


webhook.public = True
