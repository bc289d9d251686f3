"""Key rotation end to end: rows written under an old key are re-encrypted under the new one."""

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
from django.test import override_settings

from core.fields import EncryptedTextField, decrypt


def test_rotate_encryption_keys_reencrypts_with_the_newest_key(db):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    class Secretive(models.Model):
        secret = EncryptedTextField()

        class Meta:
            app_label = "core"
            db_table = "test_rotation_secretive"

        def __str__(self):
            return "secretive row"

    with connection.schema_editor() as editor:
        editor.create_model(Secretive)
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
            Secretive.objects.create(secret="refresh-token-value")
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
            call_command("rotate_encryption_keys")
            with connection.cursor() as cursor:
                cursor.execute("SELECT secret FROM test_rotation_secretive")
                stored = cursor.fetchone()[0]
        assert "refresh-token-value" not in stored
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
            assert decrypt(stored) == "refresh-token-value"
            assert Secretive.objects.get().secret == "refresh-token-value"
        with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]), pytest.raises(Exception):
            decrypt(stored)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Secretive)
        apps.all_models["core"].pop("secretive", None)
        apps.clear_cache()
