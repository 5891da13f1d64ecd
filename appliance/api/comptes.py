"""Staff accounts, admin only (docs/api.md)."""
from appliance import accounts
from appliance.api.auth import compte_json
from appliance.api.http import body, client_ip, created, get_or_404, no_content, require_admin
from appliance.api.pagination import paginate
from appliance.api.validation import Boolean, Choice, Email, Password, Text, validate
from appliance.models import ROLES, Compte

SCHEMA = {
    'username': Text(150, blank=False, required=True),
    'email': Email(),
    'role': Choice(ROLES, required=True),
    'is_active': Boolean(),
    'password': Password(required=True),
}
EDITABLE = {name: SCHEMA[name] for name in ('email', 'role', 'is_active', 'password')}


def routes(app, ctx):
    def get_compte(compte_id):
        return get_or_404(Compte, compte_id, 'Compte introuvable.')

    @app.get('/api/comptes/')
    def list_comptes():
        require_admin(ctx)
        return paginate(Compte.select().order_by(Compte.username), lambda rows: [compte_json(c) for c in rows])

    @app.post('/api/comptes/')
    def create_compte():
        admin = require_admin(ctx)
        data = validate(body(), SCHEMA)
        compte = accounts.create(data['username'], data['password'], now=ctx.clock.now(),
                                 email=data.get('email', ''), role=data['role'],
                                 is_active=data.get('is_active', True), operateur=admin, ip=client_ip())
        return created(compte_json(compte))

    @app.get('/api/comptes/<compte_id>/')
    def show_compte(compte_id):
        require_admin(ctx)
        return compte_json(get_compte(compte_id))

    @app.patch('/api/comptes/<compte_id>/')
    def update_compte(compte_id):
        admin = require_admin(ctx)
        compte = get_compte(compte_id)
        data = validate(body(), EDITABLE, partial=True)
        accounts.update(compte, data, now=ctx.clock.now(), authenticator=ctx.authenticator,
                        data_dir=ctx.config.data_dir, operateur=admin, ip=client_ip())
        return compte_json(Compte.get_by_id(compte.id))

    @app.delete('/api/comptes/<compte_id>/')
    def delete_compte(compte_id):
        admin = require_admin(ctx)
        accounts.delete(get_compte(compte_id), now=ctx.clock.now(), authenticator=ctx.authenticator,
                        operateur=admin, ip=client_ip())
        return no_content()
