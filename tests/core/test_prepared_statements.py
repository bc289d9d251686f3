"""On PostgreSQL a statement run a few times on one connection is prepared once
(`DATABASE_PREPARED_STATEMENTS`), so the server stops parsing and planning it each time."""

import pytest
from django.db import connection

from core.models import Organisation

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL feature")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_repeated_query_is_prepared_after_the_threshold(clinic):
    threshold = connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold")
    assert threshold, "prepared statements are switched off"
    lookup = Organisation.objects.filter(slug=clinic.slug)

    for _ in range(threshold - 1):
        assert lookup.get() == clinic
    assert not [sql for sql in prepared_statements() if '"core_organisation"."slug" = $1' in sql]

    assert lookup.get() == clinic
    assert [sql for sql in prepared_statements() if '"core_organisation"."slug" = $1' in sql]
