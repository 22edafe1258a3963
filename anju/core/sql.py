"""Hot-path reads without the ORM's query compilation.

Compiling a queryset costs more than running it: on the request submission path a
``filter(...).first()`` spent about four times as long in Python building its SQL as the
database spent answering. ``fetch`` reads model instances (and ``select_related``-style
foreign keys) through SQL built once per shape, converting column values the way the ORM does
(JSON, SQLite's dates and booleans), so the instances are the ones a queryset would return.

Use it only where a request runs the same small query on every call; everywhere else the
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
