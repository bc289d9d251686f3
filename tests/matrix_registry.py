"""What the authorisation matrix needs to build URLs: one object per alias per organisation.

Each app's `tests/<app>/factories.py` registers its tenant objects:

    register_matrix_object("patient", lambda organisation: PatientFactory(organisation=organisation))

A URL kwarg `pk` resolves to the alias of the view's model (its `model_name`); `patient_pk`,
`patient_id` or `patient` resolve to the alias `patient`; admin's `object_id` to the admin
model's `model_name`. Objects built for the foreign organisation have "FOREIGN-CANARY" in
their text fields where the factory allows it (pass `canary=True` through if you support it).
"""

from collections.abc import Callable

MATRIX_OBJECTS: dict[str, Callable] = {}


def register_matrix_object(alias: str, build: Callable) -> None:
    """`build(organisation, canary: str)` returns a saved object of that organisation."""
    MATRIX_OBJECTS[alias] = build
