"""Named capability checks for clinical notes and the care team: they live in `privacy.access`
(with break-glass and the access matrix) and are re-exported here for the patients app."""

from privacy.access import can_manage_care_team, can_read_notes, can_write_notes

__all__ = ["can_manage_care_team", "can_read_notes", "can_write_notes"]
