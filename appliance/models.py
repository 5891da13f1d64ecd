"""Peewee models. The schema itself is made by the versioned files in migrations/.

Times are naive UTC. The domain keeps the seed's French words (statuses in protocol.py); the desk
(appliance/desk/) is what changes them.
"""
import json

from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField,
                    IntegerField, Model, TextField)

from appliance.clock import utcnow
from appliance.db import database

ROLES = ('admin', 'staff')
PIECES_IDENTITE = ('cni', 'passeport', 'titre_sejour', 'permis', 'autre')


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False

    def save_changes(self, fields, now):
        """For models with `updated_at`: set `fields`, stamp it and save (inside writing()).
        Returns the names of the fields whose value changed, for the audit entry."""
        changed = sorted(name for name, value in fields.items() if getattr(self, name) != value)
        for name, value in fields.items():
            setattr(self, name, value)
        self.updated_at = now
        self.save()
        return changed


class Compte(BaseModel):
    """A staff account (librarian or administrator)."""
    username = CharField(max_length=150, unique=True)
    email = CharField(max_length=254, default='')
    role = CharField(max_length=10, default='staff')
    is_active = BooleanField(default=True)
    password_hash = CharField(max_length=100)
    last_login = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class AuthSession(BaseModel):
    """One login: its refresh token rotates; revoking it rejects its access tokens too."""
    id = CharField(max_length=32, primary_key=True)
    compte = ForeignKeyField(Compte, backref='auth_sessions', on_delete='CASCADE')
    refresh_jti = CharField(max_length=32)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)


class Utilisateur(BaseModel):
    """A visitor of the library who uses the public computers."""
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
    photo = CharField(max_length=100, null=True)  # file name under DATA_DIR/photos
    is_guest = BooleanField(default=False)
    notes = TextField(default='')
    created_by = ForeignKeyField(Compte, null=True, on_delete='SET NULL')
    nombre_sessions_total = IntegerField(default=0)
    derniere_session = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # Privacy (docs/rgpd.md).
    autorisation_parentale = BooleanField(default=False)   # a minor's parents agreed
    charte_version = IntegerField(null=True)   # the last version of the charter accepted
    anonymise_le = DateTimeField(null=True)    # when the record was emptied (erasure, retention)
    categorie = IntegerField(null=True)   # a Categorie id (no foreign key: see Categorie); null = the default

    recherche = TextField(default='')   # nom, prénom, e-mail, téléphone normalised (search.py)

    @property
    def nom_complet(self):
        return f'{self.prenom} {self.nom}'.strip()

    def save(self, *args, **kwargs):
        from appliance.search import search_text
        self.recherche = search_text(self)
        return super().save(*args, **kwargs)


class Poste(BaseModel):
    """A public computer."""
    nom = CharField(max_length=100, unique=True)
    ip_address = CharField(max_length=45, unique=True)
    mac_address = CharField(max_length=17, null=True, unique=True)
    statut = CharField(max_length=20, default='disponible')
    emplacement = CharField(max_length=200, default='')
    derniere_connexion = DateTimeField(null=True)
    kiosk_token_hash = CharField(max_length=64, null=True, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Session(BaseModel):
    """A visitor's time on a poste, from its access code to its end."""
    code_acces = CharField(max_length=6)
    utilisateur = ForeignKeyField(Utilisateur, null=True, backref='sessions', on_delete='SET NULL')
    poste = ForeignKeyField(Poste, null=True, backref='sessions', on_delete='SET NULL')
    duree_initiale = IntegerField()
    temps_ajoute = IntegerField(default=0)
    debut_session = DateTimeField(null=True)
    fin_prevue = DateTimeField(null=True)  # deadline while active; temps_restant derives from it
    fin_session = DateTimeField(null=True)
    statut = CharField(max_length=20, default='en_attente', index=True)
    raison_fin = CharField(max_length=40, default='')
    operateur = CharField(max_length=150, default='')
    notes = TextField(default='')
    avertissements = CharField(max_length=200, default='')  # thresholds done, "600,300"
    created_at = DateTimeField(default=utcnow)
    pause_debut = DateTimeField(null=True)    # while suspendue: when the pause began
    duree_pauses = IntegerField(default=0)    # seconds paused so far (not active time)
    invite = BooleanField(default=False)            # a guest pass: no visitor
    limite_fermeture = BooleanField(default=False)  # its deadline was capped at the library's closing

    class Meta:
        table_name = 'poste_session'

    @property
    def warnings_done(self):
        return self.parse_warnings(self.avertissements)

    @staticmethod
    def parse_warnings(text):
        return frozenset(int(x) for x in text.split(',') if x)

    @staticmethod
    def format_warnings(done):
        return ','.join(str(t) for t in sorted(done, reverse=True))


class Log(BaseModel):
    """An audit entry. Names are copied as text and ids are plain numbers, not foreign keys, so an
    entry outlives whatever it names (legal requests)."""
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
    created_at = DateTimeField(default=utcnow, index=True)
    # SHA-256 of the previous entry's empreinte and this entry's content (appliance/auditchain.py).
    empreinte = CharField(max_length=64, default='')

    @property
    def metadata_dict(self):
        try:
            return json.loads(self.metadata or '{}')
        except ValueError:
            return {}


class State(BaseModel):
    """Small key/value facts the appliance keeps about itself (last backup, last purge...)."""
    key = CharField(max_length=50, primary_key=True)
    value = TextField(default='')


class DemandeTemps(BaseModel):
    """A visitor's request for more time, asked from the kiosk (pending until staff settle it,
    or granted at once)."""
    session = ForeignKeyField(Session, backref='demandes', on_delete='CASCADE')
    poste = ForeignKeyField(Poste, null=True, on_delete='SET NULL')
    seconds = IntegerField()
    statut = CharField(max_length=20, default='en_attente', index=True)
    motif = CharField(max_length=500, default='')
    operateur = CharField(max_length=150, default='')
    created_at = DateTimeField(default=utcnow)
    traitee_at = DateTimeField(null=True)

    class Meta:
        table_name = 'demande_temps'


ALL_MODELS = [Compte, AuthSession, Utilisateur, Poste, Session, Log, State]


# -- sites (several branches on one database) -----------------------------------------------------

_default_site = {}   # database object -> id of its default site


class Site(BaseModel):
    """A branch of the library network. The oldest site (made by migration 0002) is the default
    one: postes, staff accounts and sessions made without a site belong to it; it cannot be deleted."""
    nom = CharField(max_length=100, unique=True)
    adresse = TextField(default='')
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


def default_site_id():
    """The id of the default site (the oldest), read once per bound database."""
    key = id(database.obj)
    if key not in _default_site:
        found = Site.select(Site.id).order_by(Site.id).first()
        if found is None:
            return None
        _default_site[key] = found.id
    return _default_site[key]


for _model in (Poste, Compte, Session):
    _model._meta.add_field('site', ForeignKeyField(Site, null=True, default=default_site_id,
                                                   on_delete='RESTRICT'))
# The audit log names the site by id only, like everything else it names (entries outlive rows);
# null for what concerns the whole network (backups, purges).
Log._meta.add_field('site', IntegerField(null=True, index=True))

ALL_MODELS.append(Site)


def forget_default_site():
    """Read the default site again at its next use (after a restore replaced the sites)."""
    _default_site.clear()


ALL_MODELS.append(DemandeTemps)


class Categorie(BaseModel):
    """A kind of visitor with its time allowances (docs/horaires.md). A visitor names it by a plain
    id (Utilisateur.categorie), not a foreign key, so that tables load in any order and deleting a
    category simply sends its visitors back to the default one."""
    nom = CharField(max_length=100, unique=True)
    quota_jour = IntegerField(null=True)        # seconds of active time per local day, null = unlimited
    quota_semaine = IntegerField(null=True)     # per local week (from Monday)
    duree_max_session = IntegerField(null=True)
    age_min = IntegerField(null=True)
    age_max = IntegerField(null=True)
    par_defaut = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


ALL_MODELS.append(Categorie)


class Charte(BaseModel):
    """The charter (terms of use) visitors accept at the kiosk: one row per version, the
    highest is current."""
    version = IntegerField(unique=True)
    texte = TextField()
    operateur = CharField(max_length=150, default='')
    created_at = DateTimeField(default=utcnow)


ALL_MODELS.append(Charte)
