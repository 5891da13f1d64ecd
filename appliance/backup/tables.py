"""What a backup holds, and the engine-neutral form of each value.

Every column has a kind. Values travel as JSON: ints, strings, true/false and null as themselves,
dates and datetimes as ISO 8601 strings (naive UTC, like the database). A row read from SQLite
(text dates, 0/1 booleans) and the same row read from PostgreSQL encode to the same line.
"""
from datetime import date, datetime, timezone

from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField,
                    IntegerField, TextField)

from appliance.models import ALL_MODELS, AuthSession, Site

KINDS = ('int', 'text', 'bool', 'date', 'datetime')

# Logins are not data: they expire within a day, and bringing back revoked ones would be wrong.
# After a restore, staff sign in again.
MODELS = [model for model in ALL_MODELS if model is not AuthSession]
# Sites before what belongs to them (postes, accounts, sessions): parents first.
MODELS = [Site] + [model for model in MODELS if model is not Site]


class BadValue(ValueError):
    pass


def column_kind(field):
    if isinstance(field, ForeignKeyField):
        return column_kind(field.rel_field)
    for field_class, kind in ((BooleanField, 'bool'), (DateTimeField, 'datetime'), (DateField, 'date'),
                              (IntegerField, 'int'), (CharField, 'text'), (TextField, 'text')):
        if isinstance(field, field_class):
            return kind
    # A new kind of column must be taught to the backup before it can be saved (a float, for one,
    # would need care: SQLite's json_array, used by snapshot.py, writes 15 significant digits).
    raise TypeError(f'no backup kind for {type(field).__name__} {field.model.__name__}.{field.name}')


def columns(model):
    """[(column name, kind)] in the model's order, primary key first."""
    fields = sorted(model._meta.sorted_fields, key=lambda f: not f.primary_key)
    return [(f.column_name, column_kind(f)) for f in fields]


def layout():
    """{table: [(column, kind)]} of everything a backup holds, parents before children."""
    return {model._meta.table_name: columns(model) for model in MODELS}


# -- database value -> JSON value (backup) ------------------------------------------------------

def _datetime_out(value):
    if isinstance(value, str):      # SQLite keeps text: "2026-07-12 02:00:00.123456"
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat()


def _date_out(value):
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    elif isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


# Ints and strings come out of both drivers as they are.
ENCODERS = {'bool': bool, 'date': _date_out, 'datetime': _datetime_out}


def encoder(kinds):
    """A function turning one database row into its JSON-ready list."""
    plan = [(i, ENCODERS[kind]) for i, kind in enumerate(kinds) if kind in ENCODERS]

    def encode(row):
        row = list(row)
        for i, convert in plan:
            if row[i] is not None:
                row[i] = convert(row[i])
        return row
    return encode


# -- JSON value -> Python value (restore), checked ----------------------------------------------

def _int_in(value):
    if type(value) is not int:
        raise BadValue('entier attendu')
    return value


def _text_in(value):
    if type(value) is not str:
        raise BadValue('texte attendu')
    return value


def _bool_in(value):
    if type(value) is not bool:
        raise BadValue('booléen attendu')
    return value


def _date_in(value):
    try:
        return date.fromisoformat(_text_in(value))
    except ValueError:
        raise BadValue('date attendue') from None


def _datetime_in(value):
    try:
        parsed = datetime.fromisoformat(_text_in(value))
    except ValueError:
        raise BadValue('date et heure attendues') from None
    if parsed.tzinfo is not None:
        raise BadValue('heure UTC sans fuseau attendue')
    return parsed


DECODERS = {'int': _int_in, 'text': _text_in, 'bool': _bool_in, 'date': _date_in,
            'datetime': _datetime_in}


def decoder(kinds):
    """A function turning one JSON list back into a row of Python values; BadValue if it does not fit."""
    converters = [DECODERS[kind] for kind in kinds]
    width = len(converters)

    def decode(values):
        if type(values) is not list or len(values) != width:
            raise BadValue(f'ligne de {width} valeurs attendue')
        return tuple(None if v is None else convert(v) for convert, v in zip(converters, values))
    return decode


def sqlite_value(value):
    """A Python value as SQLite stores it through peewee (text dates, 0/1 booleans)."""
    if isinstance(value, datetime):
        return value.isoformat(' ')
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
