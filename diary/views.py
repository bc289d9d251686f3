"""Diary pages (HTMX, server-rendered). Every row comes from `visible_to(request.user)` through
`diary.selectors`; every change goes through `diary.services`.

All roles use the diary: everyone reads it and books, moves, cancels and reinstates. The forms in
the side panel are fragments when HTMX asks for them and whole pages otherwise, so the diary also
works without JavaScript (except dragging, which has the reschedule form as its keyboard twin).
"""

from collections import defaultdict
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.generic import TemplateView, View

from core.choices import ALL_ROLES
from core.exceptions import DomainError
from core.views import StaffRequiredMixin
from diary import grid as diary_grid
from diary import selectors, services
from diary.choices import STATUS_FLOW, STATUSES_ONLY_AFTER_START, AppointmentStatus
from diary.filters import AppointmentFilter
from diary.forms import (
    BookingForm,
    CancelForm,
    DayForm,
    FindSlotForm,
    MoveForm,
    ReinstateForm,
    RescheduleForm,
    StatusForm,
    WeekForm,
    add_domain_error,
    add_validation_error,
    parse_start,
    patient_label,
)
from diary.models import Appointment
from patients.selectors import apply_patient_search, patient_list

DIARY_CHANGED = "diary-changed"
PATIENT_OPTIONS_LIMIT = 20


def day_url(day: date, **params) -> str:
    query = {"date": day.isoformat(), **{key: value for key, value in params.items() if value}}
    return f"{reverse('diary:day')}?{urlencode(query)}"


class DiaryMixin(StaffRequiredMixin):
    allowed_roles = ALL_ROLES

    def today(self) -> date:
        return timezone.localdate()


class PanelMixin(DiaryMixin):
    """Views whose content goes in the diary's side panel (or a page of its own without HTMX)."""

    panel_template = ""

    def render_panel(self, context: dict, *, status: int = 200, changed: bool = False):
        context = {"panel_template": self.panel_template, **context}
        template = self.panel_template if self.request.htmx else "diary/panel_page.html"
        response = render(self.request, template, context, status=status)
        if changed:
            response["HX-Trigger"] = DIARY_CHANGED
        return response

    def get_appointment(self) -> Appointment:
        try:
            return selectors.appointment_get(user=self.request.user, pk=self.kwargs["pk"])
        except (Appointment.DoesNotExist, ValidationError) as exc:
            raise Http404("No such appointment.") from exc

    def appointment_context(self, appointment: Appointment, **extra) -> dict:
        return {"appointment": appointment, "actions": _actions(appointment), **extra}


def _actions(appointment: Appointment) -> dict:
    allowed = STATUS_FLOW[appointment.status]
    started = timezone.now() >= appointment.start
    statuses = [
        (status, label)
        for status, label in (
            (AppointmentStatus.ARRIVED, "Arrived"),
            (AppointmentStatus.COMPLETED, "Completed"),
            (AppointmentStatus.DID_NOT_ATTEND, "Did not attend"),
            (AppointmentStatus.BOOKED, "Undo arrival"),  # only from arrived (STATUS_FLOW)
        )
        if status in allowed and (started or status not in STATUSES_ONLY_AFTER_START)
    ]
    return {
        "statuses": statuses,
        "can_cancel": AppointmentStatus.CANCELLED in allowed,
        # The rest of a series is cancelled from a booked occurrence only (`series_cancel_from`
        # leaves arrived ones alone, so it would not cancel the one on screen).
        "can_cancel_following": bool(appointment.series_id) and appointment.status == AppointmentStatus.BOOKED,
        "can_reschedule": appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        # Cancelled is final for status changes; a future one may still be booked again.
        "can_reinstate": appointment.status == AppointmentStatus.CANCELLED and not started,
    }


def _status_message(status: str) -> str:
    if status == AppointmentStatus.BOOKED:
        return "Arrival undone: the appointment is booked again."
    return f"Marked {AppointmentStatus(status).label.lower()}."


# --- Day and week ---------------------------------------------------------------------------


def _with_defaults(params, today: date):
    data = params.copy()
    data.setdefault("date", today.isoformat())
    data.setdefault("slot", str(diary_grid.DEFAULT_SLOT_MINUTES))
    return data


def _cancelled_with_names(cancelled, practitioners) -> list[tuple]:
    """(appointment, practitioner's name) for the list of cancelled appointments beside the grid."""
    names = {p.pk: p.full_name or p.email for p in practitioners}
    return [(appointment, names.get(appointment.practitioner_id, "")) for appointment in cancelled]


class DayView(DiaryMixin, TemplateView):
    """One column per practitioner, time rows, appointments as blocks; filter by location."""

    template_name = "diary/day.html"

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "diary-grid":
            return ["diary/_grid.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = DayForm(_with_defaults(self.request.GET, self.today()), user=user)
        values = form.cleaned_data if form.is_valid() else {}
        day = values.get("date") or self.today()
        location = values.get("location")
        slot = values.get("slot") or diary_grid.DEFAULT_SLOT_MINUTES
        day_start, day_end = selectors.day_bounds(day)

        practitioners = list(selectors.practitioner_list(user=user))
        hours = list(selectors.working_hours_list(user=user).filter(weekday=day.weekday()))
        appointment_filter = AppointmentFilter(
            {"location": str(location.pk)} if location else {},
            queryset=selectors.live_appointments_for_grid(user=user, start=day_start, end=day_end),
        )
        appointments = selectors.grid_rows(appointment_filter.qs)
        cancelled = selectors.grid_rows(
            AppointmentFilter(
                appointment_filter.data,
                queryset=selectors.cancelled_appointments_for_grid(user=user, start=day_start, end=day_end),
            ).qs
        )
        time_off = list(selectors.time_off_between(user=user, start=day_start, end=day_end))

        hours_by = defaultdict(list)
        for row in hours:
            hours_by[row.practitioner_id].append(row)
        appointments_by = defaultdict(list)
        for appointment in appointments:
            appointments_by[appointment.practitioner_id].append(appointment)
        away_by = defaultdict(list)
        for absence in time_off:
            away_by[absence.practitioner_id].append((absence.start, absence.end))
        if location is not None:
            practitioners = [
                p
                for p in practitioners
                if appointments_by[p.pk] or any(row.location_id == location.pk for row in hours_by[p.pk])
            ]
        shown_hours = [row for p in practitioners for row in hours_by[p.pk]]
        opens, closes = diary_grid.time_range(shown_hours, appointments, [day])
        week_url, book_url = reverse("diary:week"), reverse("diary:book")
        slots = diary_grid.day_slots(day, opens, closes, slot)
        columns = [
            diary_grid.Column(
                practitioner=practitioner,
                day=day,
                title=practitioner.full_name or practitioner.email,
                slots=slots,
                working=diary_grid.working_intervals(day, hours_by[practitioner.pk], location.pk if location else None),
                away=away_by[practitioner.pk],
                appointments=appointments_by[practitioner.pk],
                is_today=day == self.today(),
                link=f"{week_url}?{urlencode({'practitioner': practitioner.pk, 'date': day.isoformat()})}",
                book_url=f"{book_url}?{urlencode({'practitioner': practitioner.pk, 'date': day.isoformat()})}",
            )
            for practitioner in practitioners
        ]
        location_id = str(location.pk) if location else ""
        return super().get_context_data(
            form=form,
            day=day,
            location=location,
            grid=diary_grid.build(columns, slot),
            cancelled=_cancelled_with_names(cancelled, practitioners),
            view_name="day",
            services=list(selectors.service_list(user=user, active_only=True)),
            previous_url=day_url(day - timedelta(days=1), location=location_id, slot=slot),
            next_url=day_url(day + timedelta(days=1), location=location_id, slot=slot),
            today_url=day_url(self.today(), location=location_id, slot=slot),
            grid_url=day_url(day, location=location_id, slot=slot),
            **kwargs,
        )


class WeekView(DiaryMixin, TemplateView):
    """One practitioner's week, Monday to Sunday."""

    template_name = "diary/week.html"

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "diary-grid":
            return ["diary/_grid.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        practitioners = list(selectors.practitioner_list(user=user))
        data = _with_defaults(self.request.GET, self.today())
        if not data.get("practitioner") and practitioners:
            # Practitioners see their own week; everyone else the first practitioner's.
            default = next((p for p in practitioners if p.pk == user.pk), practitioners[0])
            data["practitioner"] = str(default.pk)
        form = WeekForm(data, user=user)
        values = form.cleaned_data if form.is_valid() else {}
        day = values.get("date") or self.today()
        slot = values.get("slot") or diary_grid.DEFAULT_SLOT_MINUTES
        practitioner = values.get("practitioner")
        monday = day - timedelta(days=day.weekday())
        days = [monday + timedelta(days=offset) for offset in range(7)]
        context = {"form": form, "day": day, "practitioner": practitioner, "view_name": "week", "grid": None}
        if practitioner is not None:
            week_start, _ = selectors.day_bounds(monday)
            _, week_end = selectors.day_bounds(days[-1])
            hours = list(selectors.working_hours_list(user=user, practitioner=practitioner))
            appointments = selectors.grid_rows(
                AppointmentFilter(
                    {"practitioner": str(practitioner.pk)},
                    queryset=selectors.live_appointments_for_grid(user=user, start=week_start, end=week_end),
                ).qs
            )
            cancelled = selectors.grid_rows(
                selectors.cancelled_appointments_for_grid(user=user, start=week_start, end=week_end).filter(
                    practitioner=practitioner
                )
            )
            context["cancelled"] = _cancelled_with_names(cancelled, [practitioner])
            time_off = [
                (absence.start, absence.end)
                for absence in selectors.time_off_between(user=user, start=week_start, end=week_end).filter(
                    practitioner=practitioner
                )
            ]
            opens, closes = diary_grid.time_range(hours, appointments, days)
            book_params = {"practitioner": practitioner.pk}
            columns = []
            for column_day in days:
                slots = diary_grid.wall_slots(column_day, opens, closes, slot)
                day_start, day_end = selectors.day_bounds(column_day)
                columns.append(
                    diary_grid.Column(
                        practitioner=practitioner,
                        day=column_day,
                        title=f"{column_day:%a} {column_day.day} {column_day:%b}",
                        slots=slots,
                        working=diary_grid.working_intervals(column_day, hours),
                        away=time_off,
                        appointments=[a for a in appointments if a.start < day_end and a.end > day_start],
                        is_today=column_day == self.today(),
                        link=day_url(column_day),
                        book_url=f"{reverse('diary:book')}?{urlencode(book_params | {'date': column_day.isoformat()})}",
                    )
                )
            context["grid"] = diary_grid.build(columns, slot)
        params = {"practitioner": str(practitioner.pk) if practitioner else "", "slot": slot}
        week_url = reverse("diary:week")
        context.update(
            previous_url=f"{week_url}?{urlencode({'date': (monday - timedelta(days=7)).isoformat(), **params})}",
            next_url=f"{week_url}?{urlencode({'date': (monday + timedelta(days=7)).isoformat(), **params})}",
            today_url=f"{week_url}?{urlencode({'date': self.today().isoformat(), **params})}",
            grid_url=f"{week_url}?{urlencode({'date': day.isoformat(), **params})}",
            monday=monday,
            sunday=days[-1],
            services=list(selectors.service_list(user=user, active_only=True)),
        )
        return super().get_context_data(**context, **kwargs)


# --- Booking ------------------------------------------------------------------------------


class BookView(PanelMixin, View):
    """The booking form, prefilled from the slot clicked (`?practitioner=&start=` or `&date=&time=`)."""

    model = Appointment
    panel_template = "diary/_book_form.html"

    def initial(self) -> dict:
        params = self.request.GET
        initial = {key: params[key] for key in ("practitioner", "service", "location", "patient") if params.get(key)}
        start = parse_start(params.get("start", ""))
        if start is not None:
            local = timezone.localtime(start)
            initial.update(date=local.date(), time=local.time())
        else:
            initial["date"] = params.get("date") or self.today().isoformat()
            if params.get("time"):
                initial["time"] = params["time"]
        if "location" not in initial:
            first = selectors.location_list(user=self.request.user, active_only=True).first()
            if first is not None:
                initial["location"] = first.pk
        return initial

    def get(self, request, *args, **kwargs):
        form = BookingForm(initial=self.initial(), user=request.user)
        return self.render_panel({"form": form})

    def post(self, request, *args, **kwargs):
        form = BookingForm(request.POST, user=request.user)
        status = 400
        plan = None
        if form.is_valid():
            data = form.cleaned_data
            booking = {
                "actor": request.user,
                "patient": data["patient"],
                "practitioner": data["practitioner"],
                "service": data["service"],
                "location": data["location"],
                "room": data.get("room"),
                "notes": data.get("notes", ""),
                "allow_patient_overlap": data.get("allow_patient_overlap", False),
                "override_hours": data.get("override_hours", False),
            }
            try:
                if data["recurrence"] is None:
                    appointment = services.appointment_book(start=data["start"], end=data["end"], **booking)
                    return self.booked(appointment, f"Booked {services.when(appointment.start, appointment.end)}.")
                skip = [start for start in map(parse_start, request.POST.getlist("skip")) if start is not None]
                series_args = {
                    **booking,
                    "first_start": data["start"],
                    "end": data["end"],
                    "recurrence": data["recurrence"],
                }
                if not skip:
                    plan = services.series_plan(**series_args)
                if plan is None or not any(occurrence.problem for occurrence in plan):
                    _, booked, skipped = services.series_book(skip=skip, **series_args)
                    message = f"Booked {len(booked)} appointments" + (f", skipped {len(skipped)}." if skipped else ".")
                    return self.booked(booked[0], message)
                status = 409
            except DomainError as error:
                add_domain_error(form, error)
                status = 409 if error.conflict else 400
                if data["recurrence"] is not None and "occurrences" in error.errors:
                    plan = services.series_plan(**series_args)  # show the dates as they are now
            except ValidationError as error:
                add_validation_error(form, error)
        conflicts = [occurrence for occurrence in plan or [] if occurrence.problem]
        context = {"form": form, "plan": plan, "conflicts": conflicts, "free_count": len(plan or []) - len(conflicts)}
        return self.render_panel(context, status=status)

    def booked(self, appointment: Appointment, message: str):
        if not self.request.htmx:
            messages.success(self.request, message)
            return redirect(day_url(timezone.localdate(appointment.start)))
        appointment = selectors.appointment_get(user=self.request.user, pk=appointment.pk)
        context = self.appointment_context(appointment, message=message)
        self.panel_template = "diary/_appointment.html"
        return self.render_panel(context, status=201, changed=True)


class PatientOptionsView(DiaryMixin, View):
    """`<option>`s of patients matching `?patient_search=` for the booking form's patient list."""

    def get(self, request, *args, **kwargs):
        query = request.GET.get("patient_search", "").strip()
        patients = []
        if query:
            queryset = patient_list(user=request.user).filter(archived=False)
            patients = list(apply_patient_search(queryset, query)[:PATIENT_OPTIONS_LIMIT])
        options = [(patient.pk, patient_label(patient)) for patient in patients]
        return render(request, "diary/_patient_options.html", {"options": options, "query": query})


# --- One appointment ------------------------------------------------------------------------


class AppointmentDetailView(PanelMixin, View):
    """Details with arrive / complete / DNA / cancel / reschedule / reinstate actions."""

    model = Appointment
    panel_template = "diary/_appointment.html"

    def get(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        return self.render_panel(self.appointment_context(appointment))


class AppointmentStatusView(PanelMixin, View):
    model = Appointment
    panel_template = "diary/_appointment.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = StatusForm(request.POST)
        if not form.is_valid():
            return self.render_panel(self.appointment_context(appointment, error="Choose a status."), status=400)
        try:
            services.appointment_set_status(
                actor=request.user,
                appointment=appointment,
                status=form.cleaned_data["status"],
                version=form.cleaned_data["version"],
            )
        except DomainError as error:
            appointment = self.get_appointment()
            context = self.appointment_context(appointment, error=error.message)
            return self.render_panel(context, status=409 if error.conflict else 400)
        return self.done(appointment.pk, _status_message(form.cleaned_data["status"]))

    def done(self, pk, message: str):
        appointment = selectors.appointment_get(user=self.request.user, pk=pk)
        if not self.request.htmx:
            messages.success(self.request, message)
            return redirect(day_url(timezone.localdate(appointment.start)))
        return self.render_panel(self.appointment_context(appointment, message=message), changed=True)


class AppointmentCancelView(AppointmentStatusView):
    """Cancel this appointment, or this and the following ones of its series.

    Staff here see the appointment they cancel (its `version` is posted back), so an arrived one
    is cancelled too (`after_arrival`): the patient came but the practitioner cannot see them.
    """

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = CancelForm(request.POST)
        if not form.is_valid():
            return self.render_panel(self.appointment_context(appointment, error="Reload and try again."), status=400)
        data = form.cleaned_data
        try:
            if data.get("scope") == "following" and appointment.series_id:
                cancelled = services.series_cancel_from(
                    actor=request.user, appointment=appointment, reason=data["reason"], version=data["version"]
                )
                message = f"Cancelled {len(cancelled)} appointments."
            else:
                services.appointment_cancel(
                    actor=request.user,
                    appointment=appointment,
                    reason=data["reason"],
                    version=data["version"],
                    after_arrival=True,
                )
                message = "Cancelled. The slot is free again."
        except DomainError as error:
            appointment = self.get_appointment()
            context = self.appointment_context(appointment, error=error.message)
            return self.render_panel(context, status=409 if error.conflict else 400)
        return self.done(appointment.pk, message)


class AppointmentReinstateView(AppointmentStatusView):
    """Book a cancelled future appointment again, by the booking rules (`appointment_reinstate`).

    A refusal is shown like the other actions'; when the rules ask for a confirmation (the
    patient's own overlap, or an admin's hours override) its checkbox is shown with it, and
    sending again with it ticked goes ahead.
    """

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = ReinstateForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render_panel(self.appointment_context(appointment, error="Reload and try again."), status=400)
        data = form.cleaned_data
        try:
            services.appointment_reinstate(
                actor=request.user,
                appointment=appointment,
                version=data["version"],
                allow_patient_overlap=data.get("allow_patient_overlap", False),
                override_hours=data.get("override_hours", False),
            )
        except DomainError as error:
            return self.refused(form, error.message, asked=set(error.errors), status=409 if error.conflict else 400)
        except ValidationError as error:  # the appointment no longer validates, e.g. its practitioner left
            return self.refused(form, " ".join(error.messages), asked=set(), status=400)
        return self.done(appointment.pk, "Reinstated: the appointment is booked again.")

    def refused(self, form: ReinstateForm, message: str, *, asked: set, status: int):
        # The confirmations the rules ask for now, and those already given (another may follow).
        options = [name for name in ("allow_patient_overlap", "override_hours") if name in form.fields]
        confirm = {name for name in options if name in asked or form.cleaned_data.get(name)}
        context = self.appointment_context(self.get_appointment(), error=message, reinstate_form=form, confirm=confirm)
        return self.render_panel(context, status=status)


class AppointmentRescheduleView(PanelMixin, View):
    """Move, reassign or change the room (keyboard twin of dragging); optionally the series."""

    model = Appointment
    panel_template = "diary/_reschedule_form.html"

    def get(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = RescheduleForm(user=request.user, appointment=appointment)
        return self.render_panel({"form": form, "appointment": appointment})

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = RescheduleForm(request.POST, user=request.user, appointment=appointment)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                "actor": request.user,
                "appointment": appointment,
                "version": data["version"],
                "start": data["start"],
                "practitioner": data["practitioner"],
                "location": data["location"],
                "room": data.get("room"),
                "allow_patient_overlap": data.get("allow_patient_overlap", False),
                "override_hours": data.get("override_hours", False),
            }
            try:
                if data.get("scope") == "following" and appointment.series_id:
                    moved = services.series_reschedule_from(**changes)
                    message = f"Moved {len(moved)} appointments."
                else:
                    services.appointment_reschedule(end=data["end"], notes=data.get("notes", ""), **changes)
                    message = "Saved."
            except DomainError as error:
                add_domain_error(form, error)
                status = 409 if error.conflict else 400
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                appointment = selectors.appointment_get(user=request.user, pk=appointment.pk)
                if not request.htmx:
                    messages.success(request, message)
                    return redirect(day_url(timezone.localdate(appointment.start)))
                self.panel_template = "diary/_appointment.html"
                return self.render_panel(self.appointment_context(appointment, message=message), changed=True)
        return self.render_panel({"form": form, "appointment": appointment}, status=status)


class AppointmentMoveView(PanelMixin, View):
    """A drag and drop in the diary (JSON for diary.js): same rules as every other move.

    A refusal answers 409/400 with the reason; the page leaves the block where it was.
    """

    model = Appointment
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        appointment = self.get_appointment()
        form = MoveForm(request.POST, user=request.user)
        if not form.is_valid():
            reason = " ".join(message for errors in form.errors.values() for message in errors)
            return JsonResponse({"ok": False, "message": reason}, status=400)
        try:
            moved = services.appointment_reschedule(
                actor=request.user,
                appointment=appointment,
                version=form.cleaned_data["version"],
                start=form.cleaned_data["start"],
                practitioner=form.cleaned_data["practitioner"],
            )
        except DomainError as error:
            return JsonResponse({"ok": False, "message": error.message}, status=409 if error.conflict else 400)
        except ValidationError as error:
            return JsonResponse({"ok": False, "message": " ".join(error.messages)}, status=400)
        return JsonResponse(
            {
                "ok": True,
                "message": f"Moved to {services.when(moved.start, moved.end)} with {moved.practitioner}.",
                "version": moved.version,
            }
        )


# --- Finding a slot --------------------------------------------------------------------------


class FindSlotView(DiaryMixin, TemplateView):
    """The next free slots for a service, optionally with one practitioner or at one location."""

    template_name = "diary/find.html"

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "slot-results":
            return ["diary/_slots.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        params = self.request.GET.copy()
        params.setdefault("from_date", self.today().isoformat())
        form = FindSlotForm(params if "service" in params else None, user=user, initial={"from_date": self.today()})
        slots = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            slots = selectors.next_free_slots(
                user=user,
                service=data["service"],
                from_day=data["from_date"],
                practitioner=data.get("practitioner"),
                location=data.get("location"),
            )
        return super().get_context_data(form=form, slots=slots, view_name="find", **kwargs)
