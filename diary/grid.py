"""How the day and week views lay appointments out: time rows by columns, as a table.

A column is one practitioner on one day (the day view has one per practitioner, the week view
one per day). Rows are slots of `slot_minutes`. An appointment fills the rows it overlaps (a
`rowspan`); appointments whose rows touch share one cell, so the table never breaks, whatever
the times. Rows are real instants, so on the days the clocks change the labels skip an hour
(March) or repeat one (October) and every appointment still sits at its true time.

Built in Python, once per request, so the template only loops (the page's cost must stay
close to the cost of reading the rows; see bench/diary_day.py).
"""

import bisect
import dataclasses
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from diary.choices import AppointmentStatus
from diary.selectors import clinic_datetime, day_bounds, merge_hours

STATUS_LABELS = dict(AppointmentStatus.choices)

SLOT_CHOICES = (5, 10, 15, 20, 30, 60)
DEFAULT_SLOT_MINUTES = 15
DEFAULT_OPENS = time(8, 0)
DEFAULT_CLOSES = time(18, 0)


@dataclasses.dataclass
class Block:
    """One appointment as the grid shows it: ready-made strings, so rendering is only output."""

    pk: str
    version: str
    colour: str
    label: str  # "10:00-10:30" (with an en dash)
    patient: str
    service: str
    status: str
    status_label: str

    @classmethod
    def of(cls, appointment, label: str) -> "Block":
        return cls(
            pk=str(appointment.pk),
            version=str(appointment.version),
            colour=appointment.colour,
            label=label,
            patient=appointment.patient_name,
            service=appointment.service_name,
            status=appointment.status,
            status_label=STATUS_LABELS[appointment.status],
        )


@dataclasses.dataclass
class Cell:
    col: str
    rowspan: int = 1
    blocks: list = dataclasses.field(default_factory=list)
    shade: str = "out"  # in (working), out, off (time off), busy (appointments)
    first_row: int = 0


@dataclasses.dataclass
class Row:
    label: str
    time: str  # "HH:MM", the wall-clock time (the week view's columns combine it with their date)
    start_iso: str
    is_hour: bool
    is_now: bool = False
    cells: list = dataclasses.field(default_factory=list)

    @property
    def css(self) -> str:
        return " ".join(name for name, on in (("hour", self.is_hour), ("now", self.is_now)) if on)


@dataclasses.dataclass
class Column:
    practitioner: object
    day: date
    title: str
    slots: list  # [(start, end)] aware, one per row
    working: list = dataclasses.field(default_factory=list)  # [(start, end)] aware
    away: list = dataclasses.field(default_factory=list)  # [(start, end)] aware
    appointments: list = dataclasses.field(default_factory=list)
    is_today: bool = False
    link: str = ""  # where the heading leads (the practitioner's week, or that day)
    book_url: str = ""  # the booking form for this practitioner and day

    @property
    def date_iso(self) -> str:
        return self.day.isoformat()

    @property
    def book_label(self) -> str:
        name = getattr(self.practitioner, "full_name", "") or ""
        return f"with {name} on {self.day:%A} {self.day.day} {self.day:%B}"


@dataclasses.dataclass
class Grid:
    columns: list
    rows: list
    slot_minutes: int


def local_label(start: datetime, end: datetime, clinic=None) -> str:
    clinic = clinic or timezone.get_current_timezone()
    return f"{start.astimezone(clinic):%H:%M}\u2013{end.astimezone(clinic):%H:%M}"


def _floor_hour(value: time) -> time:
    return time(value.hour)


def _ceil_hour(value: time) -> time | None:
    """The next whole hour at or after `value`; None means midnight at the end of the day."""
    if value.minute == 0 and value.second == 0:
        return value
    return time(value.hour + 1) if value.hour < 23 else None


def time_range(day_hours, appointments, days: list[date]) -> tuple[time, time | None]:
    """Wall-clock range to show: 08:00-18:00, widened to whole hours to fit hours and appointments."""
    opens, closes = DEFAULT_OPENS, DEFAULT_CLOSES
    for row in day_hours:
        opens = min(opens, _floor_hour(row.start_time))
        end = _ceil_hour(row.end_time)
        closes = None if end is None or closes is None else max(closes, end)
    first, last = days[0], days[-1]
    clinic = timezone.get_current_timezone()
    for appointment in appointments:
        start, end = appointment.start.astimezone(clinic), appointment.end.astimezone(clinic)
        opens = min(opens, time(0) if start.date() < first else _floor_hour(start.time()))
        end_time = None if end.date() > last or end.date() > start.date() else _ceil_hour(end.time())
        if closes is not None:
            closes = None if end_time is None else max(closes, end_time)
    return opens, closes


def day_slots(day: date, opens: time, closes: time | None, slot_minutes: int) -> list[tuple[datetime, datetime]]:
    """Aware [start, end) per row from `opens` to `closes` (None: midnight), as real instants."""
    day_start, day_end = day_bounds(day)
    start = clinic_datetime(day, opens) if opens != time(0) else day_start
    end = clinic_datetime(day, closes) if closes is not None else day_end
    step = timedelta(minutes=slot_minutes)
    slots = []
    while start < end:
        slots.append((start, min(start + step, end)))
        start += step
    return slots


def wall_slots(day: date, opens: time, closes: time | None, slot_minutes: int) -> list[tuple[datetime, datetime]]:
    """Aware [start, end) per wall-clock row (the week view: the same labels every day)."""
    slots = []
    minutes = opens.hour * 60 + opens.minute
    last = (closes.hour * 60 + closes.minute) if closes is not None else 24 * 60
    _, day_end = day_bounds(day)
    while minutes < last:
        start = clinic_datetime(day, time(minutes // 60, minutes % 60))
        following = minutes + slot_minutes
        end = day_end if following >= 24 * 60 else clinic_datetime(day, time(following // 60, following % 60))
        slots.append((start, max(end, start + timedelta(minutes=1))))
        minutes = following
    return slots


def working_intervals(day: date, rows, location_id=None) -> list[tuple[datetime, datetime]]:
    intervals = []
    hours = [(row.location_id, row.start_time, row.end_time, None) for row in rows if row.weekday == day.weekday()]
    for place_id, start_time, end_time, _ in merge_hours(hours):
        if location_id is None or place_id == location_id:
            intervals.append((clinic_datetime(day, start_time), clinic_datetime(day, end_time)))
    return intervals


def _shade(start, end, column: Column) -> str:
    for away_start, away_end in column.away:
        if away_start < end and away_end > start:
            return "off"
    for work_start, work_end in column.working:
        if work_start <= start and end <= work_end:
            return "in"
    return "out"


def build(columns: list[Column], slot_minutes: int, now: datetime | None = None) -> Grid:
    """Lay each column's appointments over its slots. All columns have as many slots."""
    now = now or timezone.now()
    row_count = len(columns[0].slots) if columns else 0
    # Labels from the first column (identical wall-clock labels in the week view).
    reference = columns[0].slots if columns else []
    seen_labels: set[str] = set()
    rows = []
    clinic = timezone.get_current_timezone()
    for start, _ in reference:
        local = start.astimezone(clinic)
        label = f"{local:%H:%M}"
        if label in seen_labels:
            label = f"{label} {local:%Z}"  # the repeated hour when the clocks go back
        seen_labels.add(label)
        rows.append(Row(label=label, time=f"{local:%H:%M}", start_iso=local.isoformat(), is_hour=local.minute == 0))

    labels: dict[tuple, str] = {}  # a busy day repeats the same few times in every column
    shades: dict[tuple, list[str]] = {}
    for index_of_column, column in enumerate(columns):
        col = str(index_of_column)
        slots = column.slots
        starts = [start for start, _ in slots]
        ends = [end for _, end in slots]
        placed: dict[int, Cell] = {}
        covered: set[int] = set()
        cluster: Cell | None = None
        cluster_last = -1
        for appointment in sorted(column.appointments, key=lambda a: (a.start, a.end)):
            first = bisect.bisect_right(ends, appointment.start)  # the first row ending after it starts
            if first >= row_count:
                continue
            last = max(first, bisect.bisect_left(starts, appointment.end) - 1)  # the last row starting before it ends
            times = (appointment.start, appointment.end)
            if times not in labels:
                labels[times] = local_label(*times, clinic)
            block = Block.of(appointment, labels[times])
            if cluster is not None and first <= cluster_last:
                cluster.blocks.append(block)
                if last > cluster_last:
                    covered.update(range(cluster_last + 1, last + 1))
                    cluster_last = last
                    cluster.rowspan = cluster_last - cluster.first_row + 1
                continue
            cluster = Cell(col=col, rowspan=last - first + 1, blocks=[block], shade="busy", first_row=first)
            cluster_last = last
            placed[first] = cluster
            covered.update(range(first + 1, last + 1))
        shading = (id(slots), tuple(column.working), tuple(column.away))
        if shading not in shades:  # colleagues with the same hours share one shading
            shades[shading] = [_shade(start, end, column) for start, end in slots]
        shade = shades[shading]
        for index, (start, end) in enumerate(slots):
            if index in covered:
                continue
            cell = placed.get(index) or Cell(col=col, shade=shade[index])
            rows[index].cells.append(cell)
            if start <= now < end and column.is_today:
                rows[index].is_now = True
    return Grid(columns=columns, rows=rows, slot_minutes=slot_minutes)
