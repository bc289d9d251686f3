from django.urls import path

from diary import views

app_name = "diary"

urlpatterns = [
    path("", views.DayView.as_view(), name="day"),
    path("week/", views.WeekView.as_view(), name="week"),
    path("find/", views.FindSlotView.as_view(), name="find-slot"),
    path("book/", views.BookView.as_view(), name="book"),
    path("book/patients/", views.PatientOptionsView.as_view(), name="patient-options"),
    path("appointments/<uuid:pk>/", views.AppointmentDetailView.as_view(), name="appointment"),
    path("appointments/<uuid:pk>/status/", views.AppointmentStatusView.as_view(), name="status"),
    path("appointments/<uuid:pk>/cancel/", views.AppointmentCancelView.as_view(), name="cancel"),
    path("appointments/<uuid:pk>/reinstate/", views.AppointmentReinstateView.as_view(), name="reinstate"),
    path("appointments/<uuid:pk>/reschedule/", views.AppointmentRescheduleView.as_view(), name="reschedule"),
    path("appointments/<uuid:pk>/move/", views.AppointmentMoveView.as_view(), name="move"),
]
