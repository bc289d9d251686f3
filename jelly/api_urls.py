"""Every /api/v1/ route, gathered from the apps."""

from django.urls import include, path

urlpatterns = [
    path("", include("core.api.urls")),
    path("", include("patients.api.urls")),
    path("", include("diary.api.urls")),
    path("", include("privacy.api.urls")),
]
