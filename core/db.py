"""Database helpers the ORM has no single call for."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Field, Model, UniqueConstraint
from django.db.models.sql import Query


@dataclass(frozen=True)
class Lookup:
    """The row of `model` that matches `filters`, exact matches on concrete fields by name or
    attname ("pk" for the primary key). They must include the primary key or a unique field,
    and may add scoping such as `core.models.tenant_scope(user)`; `filters=None` (e.g. no
    scope at all) matches nothing."""

    model: type[Model]
    filters: Mapping[str, Any] | None
    # Read only these fields (and the primary key); the others are deferred, loaded on first
    # access as after `QuerySet.only()`. For rows whose other columns are costly to read back
    # (encrypted tokens).
    only: tuple[str, ...] | None = None


def get_each(lookups: Mapping[str, Lookup]) -> dict[str, Model | None]:
    """Several single-row lookups in one statement: `{name: the row, or None}`.

    A write path that checks four or five references (an appointment's patient, practitioner,
    service, location) pays one round trip instead of one each, and no query compilation: the
    statement depends only on the models and the filters' names, so it is built once per process.
    Every column is read back through its field's converters (decryption included), exactly as
    the ORM reads it; rows come back with every concrete field loaded, or, for a lookup with
    `only`, those fields and the primary key (the rest deferred).
    """
    found: dict[str, Model | None] = dict.fromkeys(lookups)
    wanted = [(name, lookup) for name, lookup in lookups.items() if lookup.filters is not None]
    if not wanted:
        return found
    databases = {router.db_for_read(lookup.model) for _, lookup in wanted}
    if len(databases) != 1:
        raise ValueError(f"get_each reads one database, not {sorted(databases)}.")
    (database,) = databases
    connection = connections[database]

    params = [
        _prepared(lookup.model, name, value, connection)
        for _, lookup in wanted
        for name, value in lookup.filters.items()
    ]
    shapes = tuple((lookup.model, tuple(lookup.filters), lookup.only) for _, lookup in wanted)
    with connection.cursor() as cursor:
        cursor.execute(_statement(shapes, database), params)
        row = cursor.fetchone()

    offset = 0
    for name, lookup in wanted:
        reader = _reader(lookup.model, lookup.only, connection)
        values, offset = list(row[offset : offset + reader.width]), offset + reader.width
        if values[reader.pk_index] is None:
            continue  # no row matches
        (values,) = reader.compiler.apply_converters([values], reader.converters)
        found[name] = lookup.model.from_db(database, reader.attnames, values)
    return found


@dataclass(frozen=True)
class _Reader:
    """How a row of one model comes back through one connection (its converters are bound to
    it, and each thread has its own), worked out once."""

    width: int
    pk_index: int
    attnames: list[str]
    compiler: Any
    converters: dict


@lru_cache(maxsize=64)
def _reader(model: type[Model], only: tuple[str, ...] | None, connection) -> _Reader:
    fields = _read_fields(model, only)
    compiler = Query(model).get_compiler(connection=connection)
    return _Reader(
        width=len(fields),
        pk_index=fields.index(model._meta.pk),
        attnames=[field.attname for field in fields],
        compiler=compiler,
        converters=compiler.get_converters([field.get_col(model._meta.db_table) for field in fields]),
    )


def _read_fields(model: type[Model], only: tuple[str, ...] | None) -> list[Field]:
    """The concrete fields a lookup reads, in the model's order: all, or `only` and the pk."""
    if only is None:
        return list(model._meta.concrete_fields)
    wanted = {_field(model, name) for name in only} | {model._meta.pk}
    return [field for field in model._meta.concrete_fields if field in wanted]


def get_one(lookup: Lookup) -> Model | None:
    """`get_each` for one row: the ORM's `.filter(...).first()` without its query compilation,
    for rows read on every write (an organisation's settings, a connection)."""
    return get_each({"row": lookup})["row"]


def row_exists(model: type[Model], where: Mapping[str, Any], *, unless: Mapping[str, Any] | None = None) -> bool:
    """Whether a row of `model` matches `where` and does not match all of `unless` (both exact
    matches on concrete fields): the ORM's `.filter(**where).exclude(**unless).exists()` without
    its query compilation, for checks made on every write."""
    unless = unless or {}
    database = router.db_for_read(model)
    connection = connections[database]
    params = [_prepared(model, name, value, connection) for name, value in (*where.items(), *unless.items())]
    with connection.cursor() as cursor:
        cursor.execute(_exists_statement(model, tuple(where), tuple(unless), database), params)
        return bool(cursor.fetchone()[0])


@lru_cache(maxsize=64)
def _exists_statement(model: type[Model], where: tuple[str, ...], unless: tuple[str, ...], database: str) -> str:
    quote = connections[database].ops.quote_name
    conditions = [f"{quote(_field(model, name).column)} = %s" for name in where]
    if unless:
        conditions.append("NOT (" + " AND ".join(f"{quote(_field(model, name).column)} = %s" for name in unless) + ")")
    # Built from model metadata only (quoted names); every value is a parameter.
    table = quote(model._meta.db_table)
    return f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(conditions)})"  # noqa: S608


def insert_together(instances: Sequence[Model], *, only_if: tuple[str, Sequence[Any]] | None = None) -> bool:
    """Insert `instances` (in order, e.g. a row and the rows that refer to it) as `insert` does,
    or none of them if `only_if`, an SQL boolean expression and its parameters, is false. Returns
    whether they were inserted.

    On PostgreSQL this is one statement (data-modifying CTEs: the condition is read once and
    every row inserted under the same snapshot; foreign keys between the rows are checked at
    commit, as Django declares them deferrable). Elsewhere the condition is one SELECT and each
    row its own INSERT.
    """
    instances = list(instances)
    for instance in instances:
        _refuse_own_save(type(instance))
    databases = {router.db_for_write(type(instance), instance=instance) for instance in instances}
    if len(databases) != 1:
        raise ValueError(f"insert_together writes one database, not {sorted(databases)}.")
    (database,) = databases
    connection = connections[database]
    condition, condition_params = only_if if only_if is not None else ("TRUE", ())

    if connection.vendor != "postgresql":  # data-modifying CTEs are PostgreSQL's
        if only_if is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {condition}", list(condition_params))
                if not cursor.fetchone()[0]:
                    return False
        for instance in instances:
            insert(instance)
        return True

    shapes = tuple((type(instance), _generates_pk(instance)) for instance in instances)
    statement, field_lists = _insert_together_statement(shapes, condition, database)
    params = list(condition_params)
    for instance, fields in zip(instances, field_lists, strict=True):
        params += [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with transaction.mark_for_rollback_on_error(using=database), connection.cursor() as cursor:
        cursor.execute(statement, params)
        inserted, *generated = cursor.fetchone()
    if not inserted:
        return False
    generated_pks = iter(generated)
    for instance, (model, generated_pk) in zip(instances, shapes, strict=True):
        if generated_pk:
            setattr(instance, model._meta.pk.attname, next(generated_pks))
        instance._state.adding = False
        instance._state.db = database
    return True


@lru_cache(maxsize=64)
def _insert_together_statement(
    shapes: tuple[tuple[type[Model], bool], ...], condition: str, database: str
) -> tuple[str, list[list[Field]]]:
    """`WITH wanted AS (SELECT condition), row_0 AS (INSERT … SELECT values FROM wanted WHERE
    ok …), … SELECT ok, generated keys`, and the fields whose values each INSERT takes."""
    quote = connections[database].ops.quote_name
    parts = [f"wanted AS (SELECT ({condition}) AS ok)"]
    field_lists, returned = [], []
    for index, (model, generated_pk) in enumerate(shapes):
        into, fields = _insert_into(model, generated_pk, database)
        placeholders = ", ".join(["%s"] * len(fields))
        returning = f" RETURNING {quote(model._meta.pk.column)}" if generated_pk else ""
        parts.append(f"row_{index} AS ({into} SELECT {placeholders} FROM wanted WHERE ok{returning})")  # noqa: S608
        field_lists.append(fields)
        if generated_pk:
            returned.append(f"(SELECT {quote(model._meta.pk.column)} FROM row_{index})")  # noqa: S608
    # Built from model metadata and the caller's condition only; every value is a parameter.
    statement = f"WITH {', '.join(parts)} SELECT {', '.join(['ok', *returned])} FROM wanted"  # noqa: S608
    return statement, field_lists


def _generates_pk(instance: Model) -> bool:
    meta = instance._meta
    return meta.pk.db_returning and getattr(instance, meta.pk.attname) is None


def _refuse_own_save(model: type[Model]) -> None:
    if model.save is not Model.save:
        raise TypeError(f"{model._meta.label} overrides save(); insert it with save().")


def insert(instance: Model) -> Model:
    """Insert `instance` as a new row, as `instance.save(force_insert=True)` would (defaults,
    `pre_save` values such as auto_now, a database-generated primary key read back), with its
    statement built once per model instead of compiled on every call: for rows written on every
    booking. It sends no save signals and refuses a model that overrides `save`, whose extra
    behaviour it would skip."""
    model = type(instance)
    _refuse_own_save(model)
    database = router.db_for_write(model, instance=instance)
    connection = connections[database]
    meta = model._meta
    generated_pk = _generates_pk(instance)
    statement, fields = _insert_statement(model, generated_pk, database)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    # As save() does: an error marks the surrounding atomic block for rollback.
    with transaction.mark_for_rollback_on_error(using=database), connection.cursor() as cursor:
        cursor.execute(statement, values)
        if generated_pk:
            if connection.features.can_return_columns_from_insert:
                (pk,) = cursor.fetchone()
            else:
                pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
            setattr(instance, meta.pk.attname, pk)
    instance._state.adding = False
    instance._state.db = database
    return instance


@lru_cache(maxsize=64)
def _insert_statement(model: type[Model], generated_pk: bool, database: str) -> tuple[str, list[Field]]:
    """The INSERT and the fields whose values it takes, in order."""
    connection = connections[database]
    into, fields = _insert_into(model, generated_pk, database)
    placeholders = ", ".join(["%s"] * len(fields))
    statement = f"{into} VALUES ({placeholders})"
    if generated_pk and connection.features.can_return_columns_from_insert:
        statement += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    return statement, fields


def _insert_into(model: type[Model], generated_pk: bool, database: str) -> tuple[str, list[Field]]:
    """`INSERT INTO table (columns)` and the fields whose values fill them, in order."""
    quote = connections[database].ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not (generated_pk and field.primary_key)]
    columns = ", ".join(quote(field.column) for field in fields)
    # Built from model metadata only (quoted names).
    return f"INSERT INTO {quote(meta.db_table)} ({columns})", fields


def _prepared(model: type[Model], name: str, value: Any, connection) -> Any:
    field = _field(model, name)
    return field.get_db_prep_value(field.to_python(value), connection)


def _field(model: type[Model], name: str) -> Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _identifies_one_row(model: type[Model], field: Field) -> bool:
    if field.primary_key or field.unique:
        return True
    return any(
        isinstance(constraint, UniqueConstraint)
        and constraint.condition is None
        and [_field(model, name) for name in constraint.fields] == [field]
        for constraint in model._meta.constraints
    )


@lru_cache(maxsize=64)
def _statement(shapes: tuple[tuple[type[Model], tuple[str, ...], tuple[str, ...] | None], ...], database: str) -> str:
    """`SELECT lookup_0.*, lookup_1.*, … FROM (SELECT 1) LEFT JOIN (each lookup's row) ON TRUE`:
    one row, with NULLs for each lookup that found nothing."""
    quote = connections[database].ops.quote_name
    joins = []
    for index, (model, filter_names, only) in enumerate(shapes):
        meta = model._meta
        fields = [_field(model, name) for name in filter_names]
        if not any(_identifies_one_row(model, field) for field in fields):
            raise ValueError(f"A lookup of {meta.label} by {filter_names} may match many rows.")
        columns = ", ".join(quote(field.column) for field in _read_fields(model, only))
        conditions = " AND ".join(f"{quote(field.column)} = %s" for field in fields)
        one_row = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {conditions}"  # noqa: S608
        joins.append(f"LEFT JOIN ({one_row}) AS lookup_{index} ON 1 = 1")
    # Built from model metadata only (quoted names); every value is a parameter.
    columns = ", ".join(f"lookup_{index}.*" for index in range(len(shapes)))
    return f"SELECT {columns} FROM (SELECT 1 AS one) AS base {' '.join(joins)}"  # noqa: S608
