"""A trigger moves the organisation's chain head to each audit entry as it is inserted.

`privacy.audit.append_entry` claims the sequence (locking the head) and inserts the entry; the
head's `last_hash` then follows in the same statement as the insert instead of a third round
trip on every audited change. PostgreSQL and SQLite both get it, so the chain works the same in
development.
"""

from django.db import migrations

POSTGRESQL_CREATE = """
CREATE OR REPLACE FUNCTION privacy_audit_head_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE privacy_auditchainhead SET last_hash = NEW.entry_hash
    WHERE organisation_id = NEW.organisation_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER privacy_audit_head_follows_inserts
    AFTER INSERT ON privacy_auditentry
    FOR EACH ROW EXECUTE FUNCTION privacy_audit_head_follow();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS privacy_audit_head_follows_inserts ON privacy_auditentry;
DROP FUNCTION IF EXISTS privacy_audit_head_follow();
"""
SQLITE_CREATE = """
CREATE TRIGGER privacy_audit_head_follows_inserts
    AFTER INSERT ON privacy_auditentry
    FOR EACH ROW
BEGIN
    UPDATE privacy_auditchainhead SET last_hash = NEW.entry_hash
    WHERE organisation_id = NEW.organisation_id;
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS privacy_audit_head_follows_inserts;"

STATEMENTS = {
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
}


def create_trigger(apps, schema_editor):
    create, _ = STATEMENTS[schema_editor.connection.vendor]
    schema_editor.execute(create)


def drop_trigger(apps, schema_editor):
    _, drop = STATEMENTS[schema_editor.connection.vendor]
    schema_editor.execute(drop)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_erasurerequest")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
