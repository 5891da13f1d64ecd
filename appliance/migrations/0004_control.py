"""Live control of the postes: the pause of a session, and visitors' requests for more time.

A frozen copy of what it needs, independent of appliance.models.
"""
from peewee import (SQL, AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    NodeList, SqliteDatabase)


def up(migrator, db):
    class Id(AutoField):
        """Ids are never reused (AUTOINCREMENT on SQLite), as in 0001."""
        def ddl(self, ctx):
            nodes = super().ddl(ctx)
            return NodeList((nodes, SQL('AUTOINCREMENT'))) if isinstance(db, SqliteDatabase) else nodes

    class Base(Model):
        id = Id()

        class Meta:
            database = db
            legacy_table_names = False

    class Poste(Base):
        class Meta:
            table_name = 'poste'

    class Session(Base):
        class Meta:
            table_name = 'poste_session'

    class DemandeTemps(Base):
        session = ForeignKeyField(Session, on_delete='CASCADE')
        poste = ForeignKeyField(Poste, null=True, on_delete='SET NULL')
        seconds = IntegerField()
        statut = CharField(max_length=20, default='en_attente', index=True)
        motif = CharField(max_length=500, default='')
        operateur = CharField(max_length=150, default='')
        created_at = DateTimeField()
        traitee_at = DateTimeField(null=True)

        class Meta:
            table_name = 'demande_temps'

    migrator.migrate(
        migrator.add_column('poste_session', 'pause_debut', DateTimeField(null=True)),
        migrator.add_column('poste_session', 'duree_pauses',   # the database's default too (0003)
                            IntegerField(default=0, constraints=[SQL('DEFAULT 0')])),
    )
    db.create_tables([DemandeTemps])
    # One pending request per session, held by the database itself.
    db.execute_sql("CREATE UNIQUE INDEX demande_temps_une_en_attente ON demande_temps (session_id) "
                   "WHERE statut = 'en_attente'")
