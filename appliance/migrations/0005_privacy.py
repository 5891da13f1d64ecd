"""Privacy and legal requests: the audit log's hash chain (`empreinte`), visitors' parental
authorisation, accepted charter version and anonymisation date, and the charter itself.

A frozen copy, independent of appliance.models and appliance.auditchain: the entries already in
the log are chained here with the serialisation of chain version 1 (which auditchain.py keeps).
"""
import datetime
import hashlib
import json

from peewee import (SQL, AutoField, BooleanField, CharField, DateTimeField, IntegerField, Model, NodeList,
                    SqliteDatabase, TextField)

CONTENT = ('id', 'action', 'operateur', 'utilisateur', 'utilisateur_nom', 'session', 'poste',
           'poste_nom', 'details', 'metadata', 'ip_address', 'site', 'created_at')


def _moment(value):
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec='microseconds')


def _link(previous, values):
    values = list(values)
    values[-1] = _moment(values[-1]) if values[-1] is not None else None
    content = json.dumps(values, ensure_ascii=False, separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(previous.encode('ascii') + b'\n' + content).hexdigest()


def up(migrator, db):
    class Id(AutoField):
        def ddl(self, ctx):
            nodes = super().ddl(ctx)
            return NodeList((nodes, SQL('AUTOINCREMENT'))) if isinstance(db, SqliteDatabase) else nodes

    class Charte(Model):
        id = Id()
        version = IntegerField(unique=True)
        texte = TextField()
        operateur = CharField(max_length=150, default='')
        created_at = DateTimeField()

        class Meta:
            database = db
            legacy_table_names = False

    # Defaults in the database too: rows written by hand (or by an older program) stay valid.
    migrator.migrate(
        migrator.add_column('log', 'empreinte', CharField(max_length=64, default='',
                                                          constraints=[SQL("DEFAULT ''")])),
        migrator.add_column('utilisateur', 'autorisation_parentale',
                            BooleanField(default=False, constraints=[SQL('DEFAULT FALSE')])),
        migrator.add_column('utilisateur', 'charte_version', IntegerField(null=True)),
        migrator.add_column('utilisateur', 'anonymise_le', DateTimeField(null=True)),
    )
    db.create_tables([Charte])

    # Chain the entries already written, oldest first (after a purge: from the empty anchor).
    class Log(Model):
        action = CharField()
        operateur = CharField()
        utilisateur = IntegerField(null=True)
        utilisateur_nom = CharField()
        session = IntegerField(null=True)
        poste = IntegerField(null=True)
        poste_nom = CharField()
        details = TextField()
        metadata = TextField()
        ip_address = CharField(null=True)
        site = IntegerField(null=True)   # added by 0002_sites
        created_at = DateTimeField()
        empreinte = CharField()

        class Meta:
            database = db
            table_name = 'log'

    previous, after = '', 0
    while True:
        rows = list(Log.select(*[getattr(Log, name) for name in CONTENT])
                    .where(Log.id > after).order_by(Log.id).limit(2000).tuples())
        if not rows:
            break
        for row in rows:
            previous = _link(previous, row)
            Log.update(empreinte=previous).where(Log.id == row[0]).execute()
        after = rows[-1][0]
