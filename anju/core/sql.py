"""Hot-path reads and inserts without the ORM's query compilation.

Compiling a queryset costs more than running it: on the request submission path a
``filter(...).first()`` spent about four times as long in Python building its SQL as the
database spent answering. ``fetch`` reads model instances (and ``select_related``-style
foreign keys) through SQL built once per shape, converting column values the way the ORM does
(JSON, SQLite's dates and booleans), so the instances are the ones a queryset would return.

``insert`` writes a new instance the same way: its SQL is built once per model instead of
compiled on every save.

Use them only where a request runs the same small query on every call; everywhere else the
ORM is the clearer tool.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, models


@dataclass(frozen=True)
class _Part:
    model: type[models.Model]
    attnames: list[str]
    start: int
    end: int
    converters: list[tuple[int, list]]  # (column offset, converters)
    field: models.ForeignKey | None  # the relation on the base model (None for the base)


@dataclass(frozen=True)
class _Shape:
    select: str
    parts: list[_Part]


@functools.cache
def _shape(alias: str, model: type[models.Model], related: tuple[str, ...]) -> _Shape:
    connection = connections[alias]
    qn = connection.ops.quote_name
    parts: list[_Part] = []
    columns: list[str] = []
    joins: list[str] = []

    def add(m, table_alias, field):
        fields = m._meta.concrete_fields
        converters = []
        for i, f in enumerate(fields):
            col = f.get_col(table_alias)
            found = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if found:
                converters.append((i, [(conv, col) for conv in found]))
        start = len(columns)
        columns.extend(f"{table_alias}.{qn(f.column)}" for f in fields)
        parts.append(_Part(m, [f.attname for f in fields], start, len(columns), converters, field))

    add(model, "b", None)
    for name in related:
        field = model._meta.get_field(name)
        target = field.related_model
        table_alias = f"r_{name}"
        join = "JOIN" if not field.null else "LEFT JOIN"
        joins.append(
            f"{join} {qn(target._meta.db_table)} {table_alias} "
            f"ON {table_alias}.{qn(target._meta.pk.column)} = b.{qn(field.column)}"
        )
        add(target, table_alias, field)
    select = (
        f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} b " + " ".join(joins)
    ).strip()
    return _Shape(select, parts)


def fetch(
    model: type[models.Model],
    where: str,
    params: Sequence = (),
    *,
    related: Sequence[str] = (),
    order: str = "",
    limit: int | None = None,
    using: str = "default",
) -> list:
    """Instances of ``model`` matching ``where`` (SQL over the base table aliased ``b``), with
    the foreign keys named in ``related`` loaded as ``select_related`` would."""
    connection = connections[using]
    shape = _shape(using, model, tuple(related))
    sql = f"{shape.select} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    out = []
    for row in rows:
        base = None
        for part in shape.parts:
            values = list(row[part.start : part.end])
            for i, convs in part.converters:
                for conv, col in convs:
                    values[i] = conv(values[i], col, connection)
            if part.field is None:
                base = part.model.from_db(using, part.attnames, values)
                continue
            pk_index = part.attnames.index(part.model._meta.pk.attname)
            related_obj = (
                None
                if values[pk_index] is None
                else part.model.from_db(using, part.attnames, values)
            )
            part.field.set_cached_value(base, related_obj)
        out.append(base)
    return out


def fetch_first(model: type[models.Model], where: str, params: Sequence = (), **kwargs):
    """The first instance ``fetch`` finds (by ``order``, default the primary key), or None."""
    kwargs.setdefault(
        "order",
        "b." + connections[kwargs.get("using", "default")].ops.quote_name(model._meta.pk.column),
    )
    found = fetch(model, where, params, limit=1, **kwargs)
    return found[0] if found else None


def placeholders(values: Sequence) -> str:
    """``%s, %s, …`` for an ``IN (…)`` list (an empty list matches nothing: ``NULL``)."""
    return ", ".join(["%s"] * len(values)) or "NULL"


@functools.cache
def _insert_shape(alias: str, model: type[models.Model], with_pk: bool) -> tuple[str, list] | None:
    connection = connections[alias]
    qn = connection.ops.quote_name
    fields = [
        f for f in model._meta.concrete_fields if not f.generated and (with_pk or not f.primary_key)
    ]
    if any(f.has_db_default() for f in fields):
        return None  # the ORM knows when to leave a column to the database
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if not with_pk:
        sql += f" RETURNING {qn(model._meta.pk.column)}"
    return sql, fields


def insert(obj: models.Model, *, using: str = "default") -> models.Model:
    """Insert the new instance ``obj`` as ``save(force_insert=True)`` would (``auto_now``
    fields set, the primary key read back when it was not given), with SQL built once per
    model. No ``pre_save``/``post_save`` signals are sent: use it for models nobody listens
    to. Models with database defaults, and databases that cannot return the new key from an
    insert, go through ``save``."""
    connection = connections[using]
    with_pk = obj.pk is not None
    shape = _insert_shape(using, type(obj), with_pk)
    if shape is None or not (with_pk or connection.features.can_return_columns_from_insert):
        obj.save(force_insert=True, using=using)
        return obj
    sql, fields = shape
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not with_pk:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj
