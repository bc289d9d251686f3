from django.db import models


class Gender(models.TextChoices):
    """Administrative gender, with the FHIR codes (not clinical sex or gender identity)."""

    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class NhsNumberStatus(models.TextChoices):
    """Whether the NHS number has been confirmed against the national register (PDS)."""

    UNVERIFIED = "unverified", "Present but not traced"
    VERIFIED = "verified", "Traced and verified"
    TRACE_FAILED = "trace_failed", "Trace failed"


class ContactAuthority(models.TextChoices):
    """The legal authority a contact holds to act or decide for the patient."""

    NONE = "none", "None"
    PARENTAL_RESPONSIBILITY = "parental_responsibility", "Parental responsibility"
    LASTING_POWER_OF_ATTORNEY_HEALTH_WELFARE = (
        "lasting_power_of_attorney_health_welfare",
        "Lasting power of attorney (health and welfare)",
    )
    COURT_APPOINTED_DEPUTY = "court_appointed_deputy", "Court-appointed deputy"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
