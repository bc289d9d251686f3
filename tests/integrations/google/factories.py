"""Factories for Google connections, and their matrix objects (see tests/matrix_registry.py)."""

import datetime as dt

import factory
from django.utils import timezone

from core.choices import Role
from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.models import GoogleConnection
from tests.factories import StaffFactory
from tests.matrix_registry import register_matrix_object


class GoogleConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoogleConnection

    staff = factory.SubFactory(StaffFactory, role=Role.PRACTITIONER)
    organisation = factory.LazyAttribute(lambda connection: connection.staff.organisation)
    access_token = factory.Sequence(lambda n: f"ya29.factory-access-{n}")
    refresh_token = factory.Sequence(lambda n: f"1//factory-refresh-{n}")
    token_expiry = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=1))
    granted_scopes = factory.LazyFunction(lambda: [CALENDAR_SCOPE, GMAIL_SEND_SCOPE])
    status = ConnectionStatus.CONNECTED
    connected_at = factory.LazyFunction(timezone.now)


def _google_connection(organisation, canary):
    staff = StaffFactory(organisation=organisation, role=Role.PRACTITIONER, family_name=f"Google {canary}")
    return GoogleConnectionFactory(
        staff=staff,
        status=ConnectionStatus.BROKEN,
        broken_reason=f"invalid_grant {canary}",
        broken_at=timezone.now(),
    )


register_matrix_object("googleconnection", _google_connection)
