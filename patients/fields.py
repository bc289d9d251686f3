import json

from core.fields import EncryptedTextField, encrypt


class EncryptedJSONField(EncryptedTextField):
    """A JSON value stored encrypted (as text, so key order is kept). Not searchable, by design."""

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False))

    def from_db_value(self, value, expression, connection):
        text = super().from_db_value(value, expression, connection)
        if text is None:
            return None
        return json.loads(text) if text else {}

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)
