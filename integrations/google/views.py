"""The signed-in staff member connects, checks and disconnects their own Google account.

Thin views: OAuth in `oauth`, writes in `services`. Nobody acts on another person's
connection here; an organisation's admin sees connections in Django admin.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import TemplateView

from core.choices import ALL_ROLES
from core.views import StaffRequiredMixin
from integrations.google import oauth
from integrations.google.access import purposes_allowed
from integrations.google.choices import PURPOSE_SCOPES, ConnectionStatus, Purpose
from integrations.google.exceptions import AuthorisationFailed
from integrations.google.forms import DisconnectForm
from integrations.google.selectors import google_connection_of
from integrations.google.services import GoogleConnectionError, google_connection_disconnect, google_connection_store

MYACCOUNT_PERMISSIONS_URL = "https://myaccount.google.com/permissions"


def refusal(request, message: str, status: int = 400):
    return render(request, "google/refused.html", {"message": message}, status=status)


class GoogleConnectionView(StaffRequiredMixin, TemplateView):
    """What Jelly may do with the staff member's Google account, and the buttons to change it."""

    template_name = "google/connection.html"
    allowed_roles = ALL_ROLES

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        connection = google_connection_of(user)
        granted = set(connection.granted_scopes or []) if connection else set()
        allowed = purposes_allowed(user)
        context.update(
            connection=connection,
            configured=oauth.is_configured(),
            statuses=ConnectionStatus,
            holds_tokens=bool(connection and connection.status != ConnectionStatus.DISCONNECTED),
            purposes=[
                {
                    "value": purpose.value,
                    "label": purpose.label,
                    "scope": PURPOSE_SCOPES[purpose],
                    "granted": PURPOSE_SCOPES[purpose] in granted and connection.status == ConnectionStatus.CONNECTED,
                }
                for purpose in Purpose
                if purpose in allowed
            ],
            disconnect_form=DisconnectForm(),
        )
        return context


class GoogleConnectView(StaffRequiredMixin, View):
    """Sends the staff member to Google's consent page for one purpose (`?purpose=`)."""

    allowed_roles = ALL_ROLES
    http_method_names = ["get"]

    def get(self, request):
        purpose = request.GET.get("purpose", "")
        if purpose not in Purpose.values:
            return refusal(request, "Choose what to connect: Google Calendar or Gmail.")
        if purpose not in purposes_allowed(request.user):
            raise PermissionDenied
        if not oauth.is_configured():
            return refusal(request, "Google is not set up for this Jelly installation yet.", status=503)
        return redirect(oauth.authorisation_url(request, purpose))


class GoogleCallbackView(StaffRequiredMixin, View):
    """Google sends the staff member back here with a code (or an error) and our state."""

    allowed_roles = ALL_ROLES
    http_method_names = ["get"]

    def get(self, request):
        pending = oauth.pending_authorisation(request, request.GET.get("state"))
        if pending is None:
            return refusal(
                request,
                "This Google sign-in was not started here, or has already been used. "
                "Start again from your Google connection page.",
            )
        purpose = Purpose(pending["purpose"])
        if purpose not in purposes_allowed(request.user):
            raise PermissionDenied
        if request.GET.get("error"):
            messages.warning(request, f"{purpose.label} was not connected: Google reported “{request.GET['error']}”.")
            return redirect("google:connection")
        code = request.GET.get("code", "")
        if not code:
            return refusal(request, "Google did not send an authorisation code. Please try again.")
        try:
            tokens = oauth.exchange_code(pending, code)
            google_connection_store(staff=request.user, tokens=tokens)
        except AuthorisationFailed as exc:
            messages.error(request, exc.message)
            return redirect("google:connection")
        except GoogleConnectionError as exc:
            messages.error(request, str(exc))
            return redirect("google:connection")
        missing = oauth.missing_scopes(purpose, tokens.granted_scopes)
        if missing:
            messages.error(
                request,
                f"{purpose.label} is not connected: Google did not grant the permission Jelly asked for "
                f"({', '.join(missing)}). Connect again and tick that permission on Google's consent screen.",
            )
        else:
            messages.success(request, f"{purpose.label} is connected.")
        return redirect("google:connection")


class GoogleDisconnectView(StaffRequiredMixin, View):
    """Revokes Jelly's access at Google and deletes the tokens (after removing pushed events,
    if the staff member asked for that)."""

    allowed_roles = ALL_ROLES
    http_method_names = ["post"]

    def post(self, request):
        connection = google_connection_of(request.user)
        if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
            messages.info(request, "Google is not connected.")
            return redirect("google:connection")
        form = DisconnectForm(request.POST)
        remove = form.is_valid() and form.cleaned_data["remove_pushed_events"]
        could_remove = connection.status in (ConnectionStatus.CONNECTED, ConnectionStatus.DISCONNECTING)
        outcome = google_connection_disconnect(connection=connection, remove_pushed_events=remove)
        if outcome.revoked is None:
            messages.success(
                request,
                "Jelly is removing the appointments it added to your Google Calendar, "
                "then it will revoke its access and delete your Google tokens.",
            )
        elif outcome.revoked:
            messages.success(request, "Google is disconnected: Jelly's access is revoked and its tokens deleted.")
        else:
            messages.warning(
                request,
                "Jelly deleted its Google tokens but could not reach Google to revoke its access. "
                f"Remove Jelly at {MYACCOUNT_PERMISSIONS_URL}.",
            )
        if remove and not could_remove:
            messages.warning(
                request,
                "Jelly no longer had access to your calendar, so the appointments it added are still there.",
            )
        return redirect("google:connection")
