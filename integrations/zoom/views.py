"""Zoom pages for organisation admins, staff actions on an appointment's meeting, and the
public (signed) webhook endpoint."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import ListView, TemplateView

from core.choices import ALL_ROLES, Role
from core.links import absolute_url
from core.views import StaffRequiredMixin
from diary.models import Appointment
from diary.selectors import appointment_get
from integrations import outbox
from integrations.zoom import mail, oauth, selectors, services, webhooks
from integrations.zoom.choices import ZOOM_MEETING
from integrations.zoom.errors import TransientZoomError, ZoomAuthExpired, ZoomError, ZoomIntegrationError
from integrations.zoom.forms import KEEP, CreateZoomUserForm, DisconnectForm, EmailLinkForm, PreferencesForm
from integrations.zoom.models import ZoomAuditEntry, ZoomMeeting

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
                    "auto_create_for_telehealth": bool(connection and connection.auto_create_for_telehealth),
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
        # Built on SITE_URL, not the request's Host header, so it matches the registered one.
        redirect_uri = absolute_url("zoom:oauth-callback")
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["flagged_meetings"] = list(selectors.flagged_meetings_visible_to(self.request.user)[:100])
        return context


# --- Staff actions on an appointment's meeting -----------------------------------------------------

# How long "Start Zoom call" and "Email Zoom link" wait for a meeting being created right now.
INLINE_PUSH_SECONDS = 15


class AppointmentZoomActionView(StaffRequiredMixin, View):
    """Base of the buttons in the appointment's Zoom panel: POST only, any role of the
    appointment's organisation; back to the appointment (or a safe `next`) afterwards."""

    allowed_roles = ALL_ROLES
    http_method_names = ["post"]
    model = Appointment

    def get_appointment(self) -> Appointment:
        try:
            return appointment_get(user=self.request.user, pk=self.kwargs["appointment_pk"])
        except (Appointment.DoesNotExist, ValidationError) as exc:
            raise Http404("No such appointment.") from exc

    def back(self, appointment: Appointment):
        target = self.request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return redirect(target)
        return redirect("diary:appointment", pk=appointment.pk)

    def request_meeting(self, appointment: Appointment) -> bool:
        try:
            services.meeting_request(appointment=appointment, staff=self.request.user)
        except ZoomIntegrationError as exc:
            messages.error(self.request, str(exc))
            return False
        return True

    def meeting_now(self, appointment: Appointment) -> ZoomMeeting | None:
        """The live meeting, pushing the appointment's row here first if it has none yet."""
        meeting = ZoomMeeting.objects.visible_to(self.request.user).filter(appointment=appointment).first()
        if meeting is None or not meeting.is_live:
            outbox.drain(appointment_ids=[appointment.pk], destination=ZOOM_MEETING, max_seconds=INLINE_PUSH_SECONDS)
        return (
            ZoomMeeting.objects.visible_to(self.request.user)
            .filter(appointment=appointment, retired_at__isnull=True, deleted_at__isnull=True)
            .first()
        )


class AppointmentZoomCreateView(AppointmentZoomActionView):
    """ "Create Zoom meeting": the appointment is marked wanted for Zoom; a worker creates it."""

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        if self.request_meeting(appointment):
            messages.success(request, "The Zoom meeting is being created; its link appears here in a moment.")
        return self.back(appointment)


class AppointmentZoomStartView(AppointmentZoomActionView):
    """ "Start Zoom call": makes sure the meeting exists, then opens it — as host (Zoom's start
    URL, fetched fresh: it expires and is never stored) for the appointment's practitioner, by
    its join link for anyone else."""

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        if not self.request_meeting(appointment):
            return self.back(appointment)
        meeting = self.meeting_now(appointment)
        if meeting is None:
            messages.info(request, "The Zoom meeting is not ready yet. Please try again in a moment.")
            return self.back(appointment)
        if appointment.practitioner_id != request.user.pk:
            return redirect(meeting.join_url)
        try:
            details = services.zoom_client_for(request.user.organisation).get_meeting(meeting.zoom_meeting_id)
        except (ZoomError, ZoomIntegrationError) as exc:
            logger.warning("Starting Zoom meeting %s failed: %s", meeting.zoom_meeting_id, exc)
            messages.error(request, "Zoom could not start the meeting. Use the join link instead.")
            return self.back(appointment)
        return redirect(details.start_url or meeting.join_url)


class AppointmentZoomEmailLinkView(AppointmentZoomActionView):
    """ "Email Zoom link": makes sure the meeting exists, then emails the patient its join link
    through the clinic's patient email (consent, Gmail or the mail server, sent at most once per
    click)."""

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = EmailLinkForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Reload the page and try again.")
            return self.back(appointment)
        if not self.request_meeting(appointment):
            return self.back(appointment)
        meeting = self.meeting_now(appointment)
        if meeting is None:
            messages.info(request, "The Zoom meeting is not ready yet. Please try again in a moment.")
            return self.back(appointment)
        result = mail.zoom_link_send(
            actor=request.user, appointment=appointment, idempotency_key=form.cleaned_data["token"]
        )
        if result.sent_or_queued:
            messages.success(request, "The Zoom link is on its way to the patient.")
        else:
            messages.error(request, f"The Zoom link was not emailed: {result.reason}")
        return self.back(appointment)


class AppointmentZoomDismissFlagView(AppointmentZoomActionView):
    """Staff have seen a change made in Zoom that Jelly refused."""

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        for meeting in ZoomMeeting.objects.visible_to(request.user).filter(
            appointment=appointment, flagged_at__isnull=False
        ):
            services.meeting_flag_dismiss(meeting=meeting, staff=request.user)
        return self.back(appointment)


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
