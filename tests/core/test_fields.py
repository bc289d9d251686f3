"""Encrypted fields: Fernet with the newest key first, older keys still readable (rotation)."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from core import fields
from core.fields import EncryptedTextField, decrypt, encrypt

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_UNKNOWN = Fernet.generate_key().decode()


def only_readable_with(key: str, token: str) -> str:
    return Fernet(key.encode()).decrypt(token.encode()).decode()


@override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A])
def test_round_trip_and_the_stored_text_is_not_the_value():
    clinical_note = "Left ankle sprain — grade II, réferred by GP"

    token = encrypt(clinical_note)

    assert clinical_note not in token
    assert "ankle" not in token
    assert decrypt(token) == clinical_note
    assert only_readable_with(KEY_A, token) == clinical_note


@override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A])
def test_the_same_value_encrypts_differently_each_time():
    assert encrypt("same") != encrypt("same")


def test_rotation_old_values_still_decrypt_and_new_values_use_the_newest_key():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        under_a = encrypt("written before rotation")

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        assert decrypt(under_a) == "written before rotation"
        under_b = encrypt("written after rotation")

    assert only_readable_with(KEY_B, under_b) == "written after rotation"
    with pytest.raises(InvalidToken):
        only_readable_with(KEY_A, under_b)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert decrypt(under_b) == "written after rotation"


def test_a_value_under_a_key_no_longer_configured_fails_clearly():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_UNKNOWN]):
        orphan = encrypt("encrypted with a key that was dropped")

    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]),
        pytest.raises(ImproperlyConfigured, match="cannot be read with any FIELD_ENCRYPTION_KEY"),
    ):
        decrypt(orphan)


def test_a_tampered_value_fails_clearly():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        token = encrypt("do not alter")
        tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")

        with pytest.raises(ImproperlyConfigured):
            decrypt(tampered)


def test_a_malformed_key_is_reported_as_configuration_error():
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["not-a-fernet-key"]),
        pytest.raises(ImproperlyConfigured, match="not a Fernet key"),
    ):
        encrypt("anything")


def test_the_keys_in_use_follow_the_settings():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        with_a = fields.fernet()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        with_b = fields.fernet()

    assert with_a is not with_b


class TestEncryptedTextField:
    field = EncryptedTextField()

    @override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A])
    def test_values_are_encrypted_on_the_way_in_and_decrypted_on_the_way_out(self):
        stored = self.field.get_db_prep_value("allergic to latex", connection)

        assert stored != "allergic to latex"
        assert only_readable_with(KEY_A, stored) == "allergic to latex"
        assert self.field.from_db_value(stored, None, connection) == "allergic to latex"

    @pytest.mark.parametrize("empty", [None, ""])
    def test_empty_values_are_stored_as_they_are(self, empty):
        assert self.field.get_prep_value(empty) == empty
        assert self.field.from_db_value(empty, None, connection) == empty
