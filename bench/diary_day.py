"""The day view of a busy clinic against a bare view returning the same rows with `.values()`.

30 practitioners x 16 appointments on one day (PostgreSQL, booked through diary.services).
Both go through the whole middleware stack with a signed-in session, so the ratio is what the
grid layout and the template add on top of reading the rows. Goal: ratio at most 3, and the page's
query count is the same as for an empty day.
"""

import datetime
import sys
import types

from _common import percentile, report, setup_django, throwaway_database, time_calls

N = 60
PRACTITIONERS = 30
APPOINTMENTS_EACH = 16
DAY = datetime.date(2030, 1, 7)
BARE_URLCONF = "bench_diary_day_urls"


def bare_day(request):
    from django.http import JsonResponse

    from diary.models import Appointment
    from diary.selectors import day_bounds

    start, end = day_bounds(DAY)
    rows = list(
        Appointment.objects.filter(organisation_id=request.user.organisation_id, start__lt=end, end__gt=start)
        .exclude(status="cancelled")
        .order_by("start", "pk")
        .values(
            "id",
            "start",
            "end",
            "status",
            "version",
            "practitioner_id",
            "patient__given_name",
            "patient__family_name",
            "service__name",
            "service__colour",
        )
    )
    return JsonResponse({"appointments": rows})


def install_bare_urlconf() -> None:
    from django.urls import path

    from jelly import urls

    module = types.ModuleType(BARE_URLCONF)
    module.urlpatterns = [path("bench/bare-day/", bare_day), *urls.urlpatterns]
    sys.modules[BARE_URLCONF] = module


def fill_the_clinic():
    from core.choices import Role
    from core.services import location_create, organisation_create, staff_create
    from diary import services
    from diary.selectors import clinic_datetime
    from patients.services import patient_create

    organisation = organisation_create(name="Bench Clinic", slug="bench", require_two_factor=False)
    location = location_create(organisation=organisation, name="Main")
    receptionist = staff_create(
        organisation=organisation, email="rita@bench.test", role=Role.RECEPTIONIST, password="Bench-password-2026!"
    )
    service_list = [
        services.service_create(organisation=organisation, name=f"Service {n}", duration_minutes=30, colour=colour)
        for n, colour in enumerate(("#C62828", "#2E7D32", "#6A1B9A"))
    ]
    patients = [
        patient_create(
            organisation=organisation,
            given_name=f"Pat{n}",
            family_name=f"Bench{n}",
            date_of_birth=datetime.date(1960, 1, 1) + datetime.timedelta(days=n * 100),
        )
        for n in range(60)
    ]
    hours = [
        {"weekday": d, "start_time": datetime.time(8), "end_time": datetime.time(18), "location": location}
        for d in range(5)
    ]
    for p in range(PRACTITIONERS):
        practitioner = staff_create(
            organisation=organisation,
            email=f"p{p}@bench.test",
            role=Role.PRACTITIONER,
            password="Bench-password-2026!",
            given_name=f"Prac{p}",
            family_name="Titioner",
        )
        services.working_hours_set(practitioner=practitioner, hours=hours)
        for slot in range(APPOINTMENTS_EACH):
            services.appointment_book(
                actor=receptionist,
                patient=patients[(p * APPOINTMENTS_EACH + slot) % len(patients)],
                practitioner=practitioner,
                service=service_list[slot % 3],
                location=location,
                start=clinic_datetime(DAY, datetime.time(8)) + datetime.timedelta(minutes=30 * slot),
                allow_patient_overlap=True,
            )
    return receptionist


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    install_bare_urlconf()
    with throwaway_database("diary_day"), override_settings(ROOT_URLCONF=BARE_URLCONF):
        receptionist = fill_the_clinic()
        client = Client()
        client.force_login(receptionist)
        day_url = f"/diary/?date={DAY.isoformat()}"
        page = client.get(day_url)
        bare = client.get("/bench/bare-day/")
        shown = page.content.decode().count('class="appt ')
        if page.status_code != 200 or shown != PRACTITIONERS * APPOINTMENTS_EACH:
            raise SystemExit(f"The day view is wrong: {page.status_code}, {shown} blocks")
        if len(bare.json()["appointments"]) != shown:
            raise SystemExit("The bare view disagrees with the page")

        page_ms = time_calls(lambda: client.get(day_url), n=N, warmup=5)
        bare_ms = time_calls(lambda: client.get("/bench/bare-day/"), n=N, warmup=5)
        with CaptureQueriesContext(connection) as full_day:
            client.get(day_url)
        with CaptureQueriesContext(connection) as empty_day:
            client.get("/diary/?date=2030-01-08")

    page_p50, bare_p50 = percentile(page_ms, 50), percentile(bare_ms, 50)
    report("diary_day_p50_ms", page_p50)
    report("diary_day_p95_ms", percentile(page_ms, 95))
    report("diary_day_bare_values_p50_ms", bare_p50)
    report("diary_day_vs_bare_ratio", page_p50 / bare_p50)
    report("diary_day_queries", len(full_day))
    report("diary_day_queries_empty_day", len(empty_day))
    report("diary_day_page_kb", len(page.content) // 1024)


if __name__ == "__main__":
    main()
