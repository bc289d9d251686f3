"""Database helpers the ORM has no single call for."""

from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet


def get_each(lookups: Mapping[str, tuple[QuerySet, Any]]) -> dict[str, Model | None]:
    """Several single-row lookups, each a queryset (already scoped, e.g. `visible_to(user)`)
    and a primary key, in one statement: `{name: the row, or None if that queryset has no row
    with that key}`.

    A write path that checks four or five references (an appointment's patient, practitioner,
    service, location) pays one round trip instead of one each. Each lookup keeps its own
    queryset's filters: the statement joins the querysets' own SQL, each limited to its key, to
    a single row, and every column is read back through its field's converters (decryption
    included), exactly as the ORM reads it. Rows come back with every concrete field loaded.
    """
    found: dict[str, Model | None] = dict.fromkeys(lookups)
    blocks = []  # (name, queryset of one row's values, its fields)
    for name, (queryset, pk) in lookups.items():
        if pk is None:
            continue
        fields = queryset.model._meta.concrete_fields
        one = queryset.filter(pk=pk).order_by().values_list(*(field.attname for field in fields))
        if not one.query.is_empty():
            blocks.append((name, one, fields))
    if not blocks:
        return found
    databases = {one.db for _, one, _ in blocks}
    if len(databases) != 1:
        raise ValueError(f"get_each reads one database, not {sorted(databases)}.")
    (database,) = databases

    joins, params = [], []
    for index, (_, one, _) in enumerate(blocks):
        sql, block_params = one.query.sql_with_params()
        joins.append(f"LEFT JOIN ({sql}) AS lookup_{index} ON 1 = 1")
        params.extend(block_params)
    columns = ", ".join(f"lookup_{index}.*" for index in range(len(blocks)))
    # Only the ORM's own SQL and generated aliases are joined in; every value is a parameter.
    statement = f"SELECT {columns} FROM (SELECT 1 AS one) AS base {' '.join(joins)}"  # noqa: S608
    with connections[database].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()

    offset = 0
    for name, one, fields in blocks:
        values, offset = list(row[offset : offset + len(fields)]), offset + len(fields)
        model = one.model
        if values[fields.index(model._meta.pk)] is None:
            continue  # the LEFT JOIN found no such row in that queryset
        compiler = one.query.get_compiler(using=database)
        converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
        (values,) = compiler.apply_converters([values], converters)
        found[name] = model.from_db(database, [field.attname for field in fields], values)
    return found
