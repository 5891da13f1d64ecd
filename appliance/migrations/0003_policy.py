"""The library's policy (docs/horaires.md): visitor categories, a visitor's category, guest passes and
sessions capped at closing. Opening hours live in the `state` table (key `horaires`).

A frozen copy of the new model, independent of appliance.models. `poste_session.utilisateur_id` is
already nullable since 0001 (guest sessions have no visitor); this migration makes sure of it on
both engines. No row is written here (a restore stages older archives through these files): the
desk makes the default category, « Tous publics », the first time categories are read or written.
"""
import datetime

from peewee import SQL, AutoField, BooleanField, CharField, DateTimeField, IntegerField, Model, NodeList, SqliteDatabase


def up(migrator, db):
    class Id(AutoField):
        def ddl(self, ctx):
            nodes = super().ddl(ctx)
            return NodeList((nodes, SQL('AUTOINCREMENT'))) if isinstance(db, SqliteDatabase) else nodes

    class Categorie(Model):
        id = Id()
        nom = CharField(max_length=100, unique=True)
        quota_jour = IntegerField(null=True)
        quota_semaine = IntegerField(null=True)
        duree_max_session = IntegerField(null=True)
        age_min = IntegerField(null=True)
        age_max = IntegerField(null=True)
        par_defaut = BooleanField(default=False)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([Categorie])
    migrator.migrate(
        migrator.add_column('utilisateur', 'categorie', IntegerField(null=True)),
        # Defaults kept by the database too: rows written by hand (or by an older process of a
        # network during an upgrade) still go in.
        migrator.add_column('poste_session', 'invite',
                            BooleanField(default=False, constraints=[SQL('DEFAULT FALSE')])),
        migrator.add_column('poste_session', 'limite_fermeture',
                            BooleanField(default=False, constraints=[SQL('DEFAULT FALSE')])),
    )
    if not isinstance(db, SqliteDatabase):
        db.execute_sql('ALTER TABLE poste_session ALTER COLUMN utilisateur_id DROP NOT NULL')
