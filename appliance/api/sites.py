"""Sites (docs/api.md): the branches of a library network. Admins create, rename and delete them;
staff read their own. Also `?site=`, the filter every list narrowed by site declares."""
from peewee import IntegrityError

from appliance.api.declared import ADMIN, STAFF, Query, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, int_param, paginate
from appliance.api.validation import Text
from appliance.desk.sites import scope, site_json
from appliance.errors import Invalid
from appliance.models import Site

SCHEMA = {'nom': Text(100, blank=False, required=True), 'adresse': Text(1000)}
SITE = Row(Site, 'Site introuvable.')
SITE_FILTER = Query('site', {'type': 'integer', 'minimum': 1},
                    'Identifiant du site (administrateurs ; le personnel ne voit que le sien).')
UNIQUE = 'Un site porte déjà ce nom.'


def site_scope(compte):
    """The site id a list is narrowed to (None: every site), from `?site=` and who is asking:
    400 for a site that does not exist, 403 for staff asking for another site than their own."""
    number = int_param('site')
    requested = None
    if number is not None:
        requested = Site.get_or_none(Site.id == number)
        if requested is None:
            raise Invalid({'site': ['Site introuvable.']})
    return scope(compte, requested)


def check_unique(nom, current=None):
    query = Site.select().where(Site.nom == nom)
    if current is not None:
        query = query.where(Site.id != current.id)
    if query.exists():
        raise Invalid({'nom': [UNIQUE]})


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/sites/', auth=STAFF, query=PAGINATION,
             summary='Sites du réseau (le personnel ne voit que le sien)')
    def list_sites(compte):
        query = Site.select().order_by(Site.nom, Site.id)
        if compte.role != 'admin':
            query = query.where(Site.id == scope(compte, None))
        return paginate(query, lambda rows: [site_json(s) for s in rows])

    @app.post('/api/sites/', auth=ADMIN, body=SCHEMA, status=201, summary='Créer un site')
    def create_site(compte, data):
        check_unique(data['nom'])
        try:
            site = desk.create_site(data, operateur=compte, ip=client_ip())
        except IntegrityError:    # a race with another request: the name was just taken
            raise Invalid({'nom': [UNIQUE]}) from None
        return site_json(site)

    @app.get('/api/sites/<site_id:re:[0-9]+>/', auth=STAFF, wildcards={'site_id': SITE}, summary='Détail d’un site')
    def show_site(site):
        return site_json(site)

    @app.put('/api/sites/<site_id:re:[0-9]+>/', auth=ADMIN, wildcards={'site_id': SITE}, body=SCHEMA,
             summary='Modifier un site')
    @app.patch('/api/sites/<site_id:re:[0-9]+>/', auth=ADMIN, wildcards={'site_id': SITE}, body=SCHEMA,
               summary='Modifier un site (partiel)')
    def update_site(site, compte, data):
        if 'nom' in data:
            check_unique(data['nom'], current=site)
        try:
            site = desk.update_site(site, data, operateur=compte, ip=client_ip())
        except IntegrityError:
            raise Invalid({'nom': [UNIQUE]}) from None
        return site_json(site)

    @app.delete('/api/sites/<site_id:re:[0-9]+>/', auth=ADMIN, wildcards={'site_id': SITE}, status=204,
                summary='Supprimer un site (sans poste, compte ni session)')
    def delete_site(site, compte):
        desk.delete_site(site, operateur=compte, ip=client_ip())

