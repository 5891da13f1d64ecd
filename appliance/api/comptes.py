"""Staff accounts, admin only (docs/api.md)."""
from appliance import accounts
from appliance.api.auth import compte_json
from appliance.api.declared import ADMIN, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate
from appliance.api.validation import Boolean, Choice, Email, Password, Text, echoing
from appliance.models import ROLES, Compte

SCHEMA = {
    'username': Text(150, blank=False, required=True),
    'email': Email(),
    'role': Choice(ROLES, required=True),
    'is_active': Boolean(),
    'password': Password(required=True),
}
EDITABLE = echoing({name: SCHEMA[name] for name in ('email', 'role', 'is_active', 'password')},
                   'id', 'username', 'last_login')
SCHEMA = echoing(SCHEMA, 'id', 'last_login')
COMPTE = Row(Compte, 'Compte introuvable.')


def routes(app, ctx):
    @app.get('/api/comptes/', auth=ADMIN, query=PAGINATION, summary='Comptes du personnel')
    def list_comptes():
        return paginate(Compte.select().order_by(Compte.username), lambda rows: [compte_json(c) for c in rows])

    @app.post('/api/comptes/', auth=ADMIN, body=SCHEMA, status=201, summary='Créer un compte')
    def create_compte(compte, data):
        created = accounts.create(data['username'], data['password'], now=ctx.clock.now(),
                                  email=data.get('email', ''), role=data['role'],
                                  is_active=data.get('is_active', True), operateur=compte, ip=client_ip())
        return compte_json(created)

    @app.get('/api/comptes/<compte_id>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, summary='Détail d’un compte')
    def show_compte(target):
        return compte_json(target)

    @app.patch('/api/comptes/<compte_id>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, body=EDITABLE,
               summary='Modifier un compte')
    def update_compte(target, compte, data):
        accounts.update(target, data, now=ctx.clock.now(), authenticator=ctx.authenticator,
                        data_dir=ctx.config.data_dir, operateur=compte, ip=client_ip())
        return compte_json(Compte.get_by_id(target.id))

    @app.delete('/api/comptes/<compte_id>/', auth=ADMIN, wildcards={'compte_id': COMPTE}, status=204,
                summary='Supprimer un compte')
    def delete_compte(target, compte):
        accounts.delete(target, now=ctx.clock.now(), authenticator=ctx.authenticator,
                        operateur=compte, ip=client_ip())
