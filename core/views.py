import logging

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import AccessMixin
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import health
from core.access import allowed_roles_for
from core.choices import ALL_ROLES
from core.forms import TotpCodeForm
from core.two_factor import has_confirmed_device, session_is_fully_authenticated

logger = logging.getLogger(__name__)


class StaffRequiredMixin(AccessMixin):
    """Pages for signed-in staff of an organisation whose role the view allows.

    Anonymous visitors go to the login page; other roles get 403. Querysets in subclasses
    must come from `visible_to(request.user)` (see `core.models.TenantQuerySet`).
    """

    allowed_roles = ALL_ROLES

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_role(*allowed_roles_for(self, request.method)):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


class HomeView(StaffRequiredMixin, TemplateView):
    template_name = "core/home.html"


def healthz(request):
    database = health.database_state()
    broker = health.broker_state()
    healthy = database == "ok"
    body = {
        "status": ("ok" if broker in {"ok", "eager"} else "degraded") if healthy else "unavailable",
        "database": database,
        "broker": broker,
    }
    return JsonResponse(body, status=200 if healthy else 503)


healthz.public = True


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    public = True


class LogoutView(auth_views.LogoutView):
    public = True


class PasswordChangeView(StaffRequiredMixin, auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password-change-done")


class PasswordChangeDoneView(StaffRequiredMixin, auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


class TwoFactorStepMixin(AccessMixin):
    """The TOTP pages need a signed-in session, verified or not."""

    signed_in_any_state = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


class TwoFactorVerifyView(TwoFactorStepMixin, FormView):
    """Second step of signing in: a code from the staff member's authenticator app."""

    template_name = "registration/two_factor_verify.html"
    form_class = TotpCodeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_confirmed_device(request):
            return redirect("two-factor-enrol")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        for device in TOTPDevice.objects.filter(user=self.request.user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                form.add_error("code", "Too many wrong codes. Wait a minute and try again.")
                return self.form_invalid(form)
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(self.request, device)
                return redirect(_safe_next(self.request))
        logger.info("Wrong two-factor code for staff %s", self.request.user.pk)
        form.add_error("code", "That code is not right. Check the time on your phone and try again.")
        return self.form_invalid(form)


class TwoFactorEnrolView(TwoFactorStepMixin, FormView):
    """Set up an authenticator app: scan the QR code, then confirm with one code."""

    template_name = "registration/two_factor_enrol.html"
    form_class = TotpCodeForm

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and has_confirmed_device(request)
            and not session_is_fully_authenticated(request)
        ):
            return redirect("two-factor-verify")
        return super().dispatch(request, *args, **kwargs)

    def pending_device(self) -> TOTPDevice:
        device = TOTPDevice.objects.filter(user=self.request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=self.request.user, name="Authenticator app", confirmed=False)
        return device

    def get_context_data(self, **kwargs):
        device = self.pending_device()
        context = super().get_context_data(**kwargs)
        context["qr_code"] = segno.make(device.config_url, error="m").svg_data_uri(scale=5)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
        context["already_enrolled"] = has_confirmed_device(self.request)
        return context

    def form_valid(self, form):
        device = self.pending_device()
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", "Too many wrong codes. Wait a minute and try again.")
            return self.form_invalid(form)
        if not device.verify_token(form.cleaned_data["code"]):
            form.add_error("code", "That code is not right. Scan the QR code again and enter the current code.")
            return self.form_invalid(form)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(self.request, device)
        messages.success(self.request, "Two-factor authentication is set up.")
        return redirect(_safe_next(self.request))


def admin_login_redirect(request):
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("login") + (f"?{query}" if query else ""))


admin_login_redirect.public = True


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def permission_denied(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return render(request, "403.html", status=403)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side. It has been logged."}, status=500)
    return render(request, "500.html", status=500)
