"""Staff accounts, admin only (docs/api.md)."""
from appliance import accounts
from appliance.api.auth import compte_json
from appliance.api.declared import ADMIN, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate
from appliance.api.sites import SITE_FILTER, site_scope
from appliance.api.validation import Boolean, Choice, Email, Password, Reference, Text, echoing
from appliance.models import ROLES, Compte, Site

SCHEMA = {
    'username': Text(150, blank=False, required=True),
    'email': Email(),
    'role': Choice(ROLES, required=True),
    'is_active': Boolean(),
    'password': Password(required=True),
    'site': Reference(Site),
}
EDITABLE = echoing({name: SCHEMA[name] for name in ('email', 'role', 'is_active', 'password', 'site')},
                   'id', 'username', 'last_login', 'site_nom')
SCHEMA = echoing(SCHEMA, 'id', 'last_login', 'site_nom')
COMPTE = Row(Compte, 'Compte introuvable.')


def routes(app, ctx):
    @app.get('/api/comptes/', auth=ADMIN, query=(SITE_FILTER, *PAGINATION), summary='Comptes du personnel')
    def list_comptes(compte):
        site = site_scope(compte)
        query = Compte.select().order_by(Compte.username)
        if site is not None:
            query = query.where(Compte.site == site)
        return paginate(query, lambda rows: [compte_json(c) for c in rows])

    @app.post('/api/comptes/', auth=ADMIN, body=SCHEMA, status=201, summary='Créer un compte')
    def create_compte(compte, data):
        created = accounts.create(data['username'], data['password'], now=ctx.clock.now(),
                                  email=data.get('email', ''), role=data['role'],
                                  is_active=data.get('is_active', True), operateur=compte, ip=client_ip(),
                                  site=data.get('site'))
        return compte_json(created)

    @app.get('/api/comptes/<compte_id:re:[0-9]+>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, summary='Détail d’un compte')
    def show_compte(target):
        return compte_json(target)

    @app.patch('/api/comptes/<compte_id:re:[0-9]+>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, body=EDITABLE,
               summary='Modifier un compte')
    def update_compte(target, compte, data):
        accounts.update(target, data, now=ctx.clock.now(), authenticator=ctx.authenticator,
                        data_dir=ctx.config.data_dir, operateur=compte, ip=client_ip())
        return compte_json(Compte.get_by_id(target.id))

    @app.delete('/api/comptes/<compte_id:re:[0-9]+>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, status=204,
                summary='Supprimer un compte')
    def delete_compte(target, compte):
        accounts.delete(target, now=ctx.clock.now(), authenticator=ctx.authenticator,
                        operateur=compte, ip=client_ip())
