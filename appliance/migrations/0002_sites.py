"""Sites: the branches of a library network on one database. A frozen copy of what it adds,
independent of appliance.models.

The default site is made here, and everything that existed before (postes, staff accounts,
sessions, audit entries) belongs to it. The new columns stay nullable in the schema: adding a
NOT NULL column to a table rebuilds it on SQLite, which would put the partial unique indexes of
poste_session at risk; the application always gives a site.
"""
import datetime

from peewee import SQL, AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, NodeList, \
    SqliteDatabase, TextField

DEFAULT_NAME = 'Site principal'


def up(migrator, db):
    class Id(AutoField):
        def ddl(self, ctx):
            nodes = super().ddl(ctx)
            return NodeList((nodes, SQL('AUTOINCREMENT'))) if isinstance(db, SqliteDatabase) else nodes

    class Site(Model):
        id = Id()
        nom = CharField(max_length=100, unique=True)
        adresse = TextField(default='')
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([Site])
    now = datetime.datetime.utcnow()
    default = Site.create(nom=DEFAULT_NAME, adresse='', created_at=now, updated_at=now)
    operations = [migrator.add_column(table, 'site_id', ForeignKeyField(Site, null=True, field=Site.id,
                                                                        on_delete='RESTRICT'))
                  for table in ('poste', 'compte', 'poste_session')]
    operations.append(migrator.add_column('log', 'site', IntegerField(null=True)))
    operations.append(migrator.add_index('log', ('site',)))
    migrator.migrate(*operations)
    for table in ('poste', 'compte', 'poste_session'):
        db.execute_sql(f'UPDATE {table} SET site_id = {int(default.id)}')
    db.execute_sql(f'UPDATE log SET site = {int(default.id)}')
