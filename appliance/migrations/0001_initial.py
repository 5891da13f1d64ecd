"""Initial schema. A frozen copy of the models as they were, independent of appliance.models."""
import datetime

from peewee import (SQL, AutoField, BooleanField, CharField, DateField, DateTimeField,
                    ForeignKeyField, IntegerField, Model, NodeList, SqliteDatabase, TextField)


def up(migrator, db):
    class Id(AutoField):
        """Ids are never reused: the audit log names rows by id. SQLite reuses the highest id of a
        deleted row unless the key is AUTOINCREMENT; PostgreSQL sequences never do."""
        def ddl(self, ctx):
            nodes = super().ddl(ctx)
            return NodeList((nodes, SQL('AUTOINCREMENT'))) if isinstance(db, SqliteDatabase) else nodes

    class Base(Model):
        id = Id()

        class Meta:
            database = db
            legacy_table_names = False

    class Compte(Base):
        username = CharField(max_length=150, unique=True)
        email = CharField(max_length=254, default='')
        role = CharField(max_length=10, default='staff')
        is_active = BooleanField(default=True)
        password_hash = CharField(max_length=100)
        last_login = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class AuthSession(Base):
        id = CharField(max_length=32, primary_key=True)
        compte = ForeignKeyField(Compte, on_delete='CASCADE')
        refresh_jti = CharField(max_length=32)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        revoked_at = DateTimeField(null=True)

    class Utilisateur(Base):
        nom = CharField(max_length=100)
        prenom = CharField(max_length=100)
        email = CharField(max_length=254, default='')
        telephone = CharField(max_length=30, default='')
        date_naissance = DateField(null=True)
        adresse = TextField(default='')
        type_piece_identite = CharField(max_length=20, null=True)
        piece_identite_verifiee = BooleanField(default=False)
        numero_piece_identite = CharField(max_length=50, default='')
        consentement_rgpd = BooleanField(default=False)
        date_consentement = DateTimeField(null=True)
        photo = CharField(max_length=100, null=True)
        is_guest = BooleanField(default=False)
        notes = TextField(default='')
        created_by = ForeignKeyField(Compte, null=True, on_delete='SET NULL')
        nombre_sessions_total = IntegerField(default=0)
        derniere_session = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

    class Poste(Base):
        nom = CharField(max_length=100, unique=True)
        ip_address = CharField(max_length=45, unique=True)
        mac_address = CharField(max_length=17, null=True, unique=True)
        statut = CharField(max_length=20, default='disponible')
        emplacement = CharField(max_length=200, default='')
        derniere_connexion = DateTimeField(null=True)
        kiosk_token_hash = CharField(max_length=64, null=True, index=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

    class Session(Base):
        code_acces = CharField(max_length=6)
        utilisateur = ForeignKeyField(Utilisateur, null=True, on_delete='SET NULL')
        poste = ForeignKeyField(Poste, null=True, on_delete='SET NULL')
        duree_initiale = IntegerField()
        temps_ajoute = IntegerField(default=0)
        debut_session = DateTimeField(null=True)
        fin_prevue = DateTimeField(null=True)
        fin_session = DateTimeField(null=True)
        statut = CharField(max_length=20, default='en_attente', index=True)
        raison_fin = CharField(max_length=40, default='')
        operateur = CharField(max_length=150, default='')
        notes = TextField(default='')
        avertissements = CharField(max_length=200, default='')
        created_at = DateTimeField()

        class Meta:
            table_name = 'poste_session'

    class Log(Base):
        action = CharField(max_length=40, index=True)
        operateur = CharField(max_length=150, default='')
        utilisateur = IntegerField(null=True, index=True)
        utilisateur_nom = CharField(max_length=201, default='')
        session = IntegerField(null=True, index=True)
        poste = IntegerField(null=True, index=True)
        poste_nom = CharField(max_length=100, default='')
        details = TextField(default='')
        metadata = TextField(default='{}')
        ip_address = CharField(max_length=45, null=True)
        created_at = DateTimeField(index=True)

    class State(Base):
        key = CharField(max_length=50, primary_key=True)
        value = TextField(default='')

    db.create_tables([Compte, AuthSession, Utilisateur, Poste, Session, Log, State])
    # The invariants of the desk, held by the database itself: a code is unique among open
    # sessions, a visitor has at most one open session, a poste at most one running session.
    db.execute_sql("CREATE UNIQUE INDEX session_open_code ON poste_session (code_acces) "
                   "WHERE statut IN ('en_attente', 'active', 'suspendue')")
    db.execute_sql("CREATE UNIQUE INDEX session_open_visitor ON poste_session (utilisateur_id) "
                   "WHERE statut IN ('en_attente', 'active', 'suspendue')")
    db.execute_sql("CREATE UNIQUE INDEX session_running_poste ON poste_session (poste_id) "
                   "WHERE statut IN ('active', 'suspendue')")
