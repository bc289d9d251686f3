"""The diary grid's cells, written out in Python.

A busy day view has over a thousand cells; looping over them in the template language costs
several times more than reading the appointments (bench/diary_day.py), so each row's cells are
joined here. Every value from people (patient and service names) is escaped.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _block(block, appointment_url: str) -> str:
    return (
        f'<button type="button" class="appt status-{block.status}" draggable="true" '
        f'data-appointment="{block.pk}" data-version="{block.version}" data-colour="{escape(block.colour)}" '
        f'hx-get="{appointment_url}{block.pk}/" hx-target="#diary-panel">'
        f'<span class="appt-time">{block.label}</span> <span class="appt-patient">{escape(block.patient)}</span> '
        f'<span class="appt-service">{escape(block.service)}</span> '
        f'<span class="appt-status">{escape(block.status_label)}</span></button>'
    )


@register.simple_tag
def grid_cells(row, appointment_url: str) -> SafeString:
    parts = []
    for cell in row.cells:
        if cell.blocks:
            blocks = "".join(_block(block, appointment_url) for block in cell.blocks)
            parts.append(f'<td class="busy" rowspan="{cell.rowspan}" data-col="{cell.col}">{blocks}</td>')
        else:
            parts.append(f'<td class="slot {cell.shade}" data-col="{cell.col}"></td>')
    return mark_safe("".join(parts))  # noqa: S308 - built above from escaped values and our own constants
