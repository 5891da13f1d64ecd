"""Token and login routes (docs/api.md)."""
from appliance import accounts
from appliance.api.http import body, client_ip, current_compte, no_content
from appliance.api.validation import Password, Text, validate
from appliance.clock import iso
from appliance.auth import check_password
from appliance.errors import Invalid

CREDENTIALS = {'username': Text(150, blank=False, required=True), 'password': Password(required=True)}
REFRESH = {'refresh': Text(4096, blank=False, required=True)}
VERIFY = {'token': Text(4096, blank=False, required=True)}
CHANGE_PASSWORD = {'old_password': Password(required=True), 'new_password': Password(required=True)}


def compte_json(compte):
    return {'id': compte.id, 'username': compte.username, 'email': compte.email, 'role': compte.role,
            'is_active': compte.is_active, 'last_login': iso(compte.last_login)}


def routes(app, ctx):
    def login():
        data = validate(body(), CREDENTIALS)
        return ctx.authenticator.login(data['username'], data['password'], client_ip())

    @app.post('/api/token/')
    def token():
        _, access, refresh = login()
        return {'access': access, 'refresh': refresh}

    @app.post('/api/auth/login/')
    def auth_login():
        compte, access, refresh = login()
        user = compte_json(compte)
        del user['is_active'], user['last_login']
        return {'access': access, 'refresh': refresh, 'user': user}

    @app.post('/api/token/refresh/')
    def token_refresh():
        data = validate(body(), REFRESH)
        access, refresh = ctx.authenticator.refresh(data['refresh'])
        return {'access': access, 'refresh': refresh}

    @app.post('/api/token/verify/')
    def token_verify():
        data = validate(body(), VERIFY)
        ctx.authenticator.verify(data['token'])
        return {}

    @app.post('/api/auth/logout/')
    def auth_logout():
        compte = current_compte(ctx)
        data = validate(body(), REFRESH)
        ctx.authenticator.logout(data['refresh'], compte, client_ip())
        return no_content()

    @app.get('/api/auth/me/')
    def me():
        compte = current_compte(ctx)
        data = compte_json(compte)
        data['must_change_password'] = accounts.has_initial_password(ctx.config.data_dir, compte)
        return data

    @app.post('/api/auth/change-password/')
    def change_password():
        compte = current_compte(ctx)
        data = validate(body(), CHANGE_PASSWORD)
        if not check_password(data['old_password'], compte.password_hash):
            raise Invalid({'old_password': ['Mot de passe actuel incorrect.']})
        accounts.update(compte, {'password': data['new_password']}, now=ctx.clock.now(),
                        authenticator=ctx.authenticator, data_dir=ctx.config.data_dir,
                        operateur=compte, ip=client_ip())
        return no_content()
