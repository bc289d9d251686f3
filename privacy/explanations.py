"""What staff explain to a patient before recording their objection to NHS-number sharing (the
privacy policy promises that discussion). One text, shown on the page and returned by the API."""

OBJECTION_TITLE = "Objection to NHS-number sharing (UK GDPR Article 21)"

OBJECTION_EXPLANATION = (
    "Your care here does not change. We keep your NHS number on your record and use it inside this "
    "clinic as before: your appointments, notes and treatment carry on exactly as now.",
    "We will not include your NHS number in anything we send to other organisations (for example "
    "referral letters, reports, or information shared with social care), and we will not use it to "
    "link your records here with records held by social care or other services.",
    "Other services may then need a little longer to be sure they have the right person (we will "
    "identify you by name, date of birth and address instead), and some services that rely on the "
    "NHS number may be slower to reach you.",
    "This is separate from the National Data Opt-out, which is about research and planning and "
    "which you set with the NHS, not with us. You can withdraw this objection at any time.",
)
