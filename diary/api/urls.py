"""Diary API routes (included under /api/v1/).

URL kwargs: `pk` is the route's own object; `practitioner_pk` names the practitioner.
"""

from django.urls import path

from diary.api import views

appointment_list = views.AppointmentViewSet.as_view({"get": "list", "post": "create"})
appointment_detail = views.AppointmentViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
appointment_cancel = views.AppointmentViewSet.as_view({"post": "cancel"})
appointment_status = views.AppointmentViewSet.as_view({"post": "set_status"})
appointment_reinstate = views.AppointmentViewSet.as_view({"post": "reinstate"})

urlpatterns = [
    path("practitioners/", views.PractitionerViewSet.as_view({"get": "list"}), name="api-practitioner-list"),
    path(
        "practitioners/<uuid:practitioner_pk>/working-hours/",
        views.WorkingHoursView.as_view(),
        name="api-practitioner-working-hours",
    ),
    path("services/", views.ServiceViewSet.as_view({"get": "list", "post": "create"}), name="api-service-list"),
    path("locations/", views.LocationViewSet.as_view({"get": "list", "post": "create"}), name="api-location-list"),
    path("appointments/", appointment_list, name="api-appointment-list"),
    path("appointments/<uuid:pk>/", appointment_detail, name="api-appointment-detail"),
    path("appointments/<uuid:pk>/cancel/", appointment_cancel, name="api-appointment-cancel"),
    path("appointments/<uuid:pk>/status/", appointment_status, name="api-appointment-status"),
    path("appointments/<uuid:pk>/reinstate/", appointment_reinstate, name="api-appointment-reinstate"),
    path("availability/", views.AvailabilityView.as_view(), name="api-availability"),
]
