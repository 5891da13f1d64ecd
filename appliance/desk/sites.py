"""Sites: the branches of a library network sharing one database.

Postes, staff accounts and sessions belong to a site (the default site, the oldest, when none is
given). Staff see and act on their own site only; admins on every site, and may narrow what they
read with `?site=`. The audit log keeps the site of each entry as a plain number (null: something
of the whole network, a backup or a purge).
"""
from appliance import audit
from appliance.db import writing
from appliance.errors import Conflict, Forbidden, Invalid
from appliance.models import Compte, Poste, Session, Site, default_site_id
from appliance.clock import iso
from appliance.protocol import OPEN_STATUTS

OTHER_SITE = 'Ce poste, cette session ou cette entrée appartient à un autre site que le vôtre.'


def site_json(site):
    return {'id': site.id, 'nom': site.nom, 'adresse': site.adresse, 'par_defaut': site.id == default_site_id(),
            'created_at': iso(site.created_at), 'updated_at': iso(site.updated_at)}


def is_admin(compte):
    return compte is not None and compte.role == 'admin'


def own_site(compte):
    """The site a staff account works on (its own, or the default one)."""
    return compte.site_id or default_site_id()


def site_of(row):
    """The site a row belongs to: a Site itself, or the `site` of a poste, session, account or
    audit entry; None for what belongs to no site (visitors, network-wide entries)."""
    if isinstance(row, Site):
        return row.id
    if hasattr(row, 'site_id'):
        return row.site_id or default_site_id()
    return getattr(row, 'site', None)


def check_site(compte, row):
    """Staff act on their own site only: Forbidden (403) for a row of another site. Admins,
    kiosks (no account) and rows of no site pass."""
    if compte is None or is_admin(compte) or row is None:
        return
    site = site_of(row)
    if site is not None and site != own_site(compte):
        raise Forbidden(OTHER_SITE)


def scope(compte, requested):
    """The site a list is narrowed to: `requested` (a Site or None, from `?site=`) for an admin
    (None: every site); a staff member's own site, whatever they ask (another site: 403)."""
    if is_admin(compte):
        return requested.id if requested is not None else None
    if requested is not None and requested.id != own_site(compte):
        raise Forbidden('Vous ne voyez que votre propre site.')
    return own_site(compte)


class Sites:
    def session_site(self, poste, site, operateur):
        """The site of a new session: its poste's; else the one given; else the staff member's own."""
        if poste is not None:
            if site is not None and site.id != site_of(poste):
                raise Invalid({'site': ['Le poste choisi appartient à un autre site.']})
            check_site(operateur, poste)
            return site_of(poste)
        if site is not None:
            check_site(operateur, site)
            return site.id
        return own_site(operateur) if hasattr(operateur, 'site_id') else default_site_id()

    def create_site(self, fields, *, operateur, ip):
        now = self.now()
        with writing():
            site = Site.create(nom=fields['nom'], adresse=fields.get('adresse', ''), created_at=now, updated_at=now)
            audit.record('creation_site', now=now, operateur=operateur, ip=ip, site=site.id,
                         details=f'Site {site.nom} créé.')
        return site

    def update_site(self, site, fields, *, operateur, ip):
        now = self.now()
        with writing():
            old = site.nom
            changed = site.save_changes(fields, now)
            if changed:
                audit.record('modification_site', now=now, operateur=operateur, ip=ip, site=site.id,
                             details=f'Site {old} modifié ({", ".join(changed)}).',
                             metadata={'champs': changed})
        return site

    def delete_site(self, site, *, operateur, ip):
        now = self.now()
        with writing():
            if site.id == default_site_id():
                raise Conflict('Le site par défaut ne peut pas être supprimé.')
            for model, what in ((Poste, 'des postes'), (Compte, 'des comptes du personnel'),
                                (Session, 'des sessions')):
                if model.select().where(model.site == site).exists():
                    raise Conflict(f'Ce site a encore {what} : déplacez-les ou gardez le site '
                                   '(les sessions passées restent comptées dans ses statistiques).')
            audit.record('suppression_site', now=now, operateur=operateur, ip=ip, site=site.id,
                         details=f'Site {site.nom} supprimé.')
            site.delete_instance()

    def move_poste_check(self, poste, site):
        """A poste changes site only when no session is open on it (its session would be left on
        the old site while the poste is on the new one)."""
        if site is not None and site.id != site_of(poste):
            if Session.select().where(Session.poste == poste, Session.statut.in_(OPEN_STATUTS)).exists():
                raise Conflict('Une session ou un code est en cours sur ce poste : terminez-le avant '
                               'de changer le poste de site.')
