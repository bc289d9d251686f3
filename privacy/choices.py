"""The privacy vocabulary: consent purposes and decisions, disclosure categories and purposes,
data categories, and audit actions. The values are stored and appear in the API."""

from django.db import models


class ConsentPurpose(models.TextChoices):
    """What a patient may consent to. Organisations may add their own (`CustomConsentPurpose`)."""

    EMAIL_COMMUNICATIONS = "email_communications", "Email communications"
    SMS_COMMUNICATIONS = "sms_communications", "SMS communications"
    SHARE_WITH_SOCIAL_CARE = "share_with_social_care", "Sharing with social care"
    SHARE_WITH_FAMILY_OR_REPRESENTATIVE = (
        "share_with_family_or_representative",
        "Sharing with family or a representative",
    )
    RESEARCH = "research", "Research"


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


class RecordingMethod(models.TextChoices):
    """How the patient told us (a consent decision, an objection, or its withdrawal)."""

    VERBAL = "verbal", "Verbally"
    WRITTEN = "written", "In writing"
    ONLINE_FORM = "online_form", "Online form"


class RecipientCategory(models.TextChoices):
    """Who a disclosure goes to. Only healthcare professionals are a clinical category."""

    HEALTHCARE_PROFESSIONAL = "healthcare_professional", "Healthcare professional (related to the patient's care)"
    SOCIAL_WELFARE_ORGANISATION = "social_welfare_organisation", "Social or welfare organisation"
    CENTRAL_GOVERNMENT = "central_government", "Central government"
    FAMILY_ASSOCIATE_REPRESENTATIVE = "family_associate_representative", "Family, associate or representative"


class DisclosurePurpose(models.TextChoices):
    DIRECT_CARE = "direct_care", "Direct care"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    PATIENT_REQUEST = "patient_request", "The patient's request"
    RESEARCH = "research", "Research"


class DataCategory(models.TextChoices):
    """The parts of a record a disclosure may ask for, in the order a package lists them."""

    DEMOGRAPHICS = "demographics", "Demographics"
    APPOINTMENTS = "appointments", "Appointments"
    CLINICAL_SUMMARY = "clinical_summary", "Clinical summary"
    NOTES = "notes", "Clinical notes"
    NHS_NUMBER = "nhs_number", "NHS number"


CLINICAL_DATA_CATEGORIES = frozenset({DataCategory.CLINICAL_SUMMARY, DataCategory.NOTES})
CLINICAL_RECIPIENT_CATEGORIES = frozenset({RecipientCategory.HEALTHCARE_PROFESSIONAL})


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    READ_NOTES = "read_notes", "Read clinical notes"
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    BREAK_GLASS = "break_glass", "Break-glass access granted"


class AuditPurpose(models.TextChoices):
    """Why something was looked at or sent, where it is not simply the clinic's own work."""

    DIRECT_CARE = "direct_care", "Direct care"
    ADMINISTRATION = "administration", "Administration"
    SUBJECT_ACCESS = "subject_access", "Subject access request"
    DISCLOSURE = "disclosure", "Disclosure"
    BREAK_GLASS = "break_glass", "Break-glass (emergency) access"
