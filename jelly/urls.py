from django.contrib import admin
from django.urls import include, path

from core import views as core_views
from core.api import views as core_api_views

urlpatterns = [
    path("", core_views.HomeView.as_view(), name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("core.urls")),
    path("patients/", include("patients.urls")),
    path("diary/", include("diary.urls")),
    path("privacy/", include("privacy.urls")),
    # Admin signs in through the same login (password, lockout, TOTP) as everything else.
    path("admin/login/", core_views.admin_login_redirect, name="admin-login-redirect"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("jelly.api_urls")),
    path("api/schema/", core_api_views.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", core_api_views.SchemaDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("integrations/zoom/", include("integrations.zoom.urls")),
    path("integrations/google/", include("integrations.google.urls")),
    path("integrations/", include("integrations.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
handler403 = "core.views.permission_denied"
