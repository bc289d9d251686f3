"""On PostgreSQL, a trigger refuses UPDATE and DELETE on the audit table: entries are append-only.

Only a superuser can get past it (by disabling the trigger or with session_replication_role),
and the hash chain then shows what was changed (`manage.py verify_audit_chain`). TRUNCATE is
left alone so test databases can still be flushed. Other databases (SQLite for development)
migrate without it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION privacy_audit_entry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'privacy_auditentry is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER privacy_audit_entry_append_only
    BEFORE UPDATE OR DELETE ON privacy_auditentry
    FOR EACH ROW EXECUTE FUNCTION privacy_audit_entry_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS privacy_audit_entry_append_only ON privacy_auditentry;
DROP FUNCTION IF EXISTS privacy_audit_entry_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
