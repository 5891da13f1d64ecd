"""Token and login routes (docs/api.md)."""
from appliance import accounts
from appliance.api.declared import PUBLIC, STAFF
from appliance.api.http import client_ip
from appliance.api.validation import Password, Text
from appliance.clock import iso
from appliance.models import Site, default_site_id

CREDENTIALS = {'username': Text(150, blank=False, required=True), 'password': Password(required=True)}
REFRESH = {'refresh': Text(4096, blank=False, required=True)}
VERIFY = {'token': Text(4096, blank=False, required=True)}
CHANGE_PASSWORD = {'old_password': Password(required=True), 'new_password': Password(required=True)}


def compte_json(compte):
    return {'id': compte.id, 'username': compte.username, 'email': compte.email, 'role': compte.role,
            'is_active': compte.is_active, 'last_login': iso(compte.last_login), **site_fields(compte)}


def site_fields(compte):
    """The account's site: its id and name (the dashboard shows where its user works)."""
    site = Site.get_or_none(Site.id == (compte.site_id or default_site_id()))
    return {'site': site.id if site else None, 'site_nom': site.nom if site else None}


def routes(app, ctx):
    def login(data):
        return ctx.authenticator.login(data['username'], data['password'], client_ip())

    @app.post('/api/token/', auth=PUBLIC, body=CREDENTIALS, summary='Obtenir un jeton JWT')
    def token(data):
        _, access, refresh = login(data)
        return {'access': access, 'refresh': refresh}

    @app.post('/api/auth/login/', auth=PUBLIC, body=CREDENTIALS, summary='Connexion')
    def auth_login(data):
        compte, access, refresh = login(data)
        user = compte_json(compte)
        del user['is_active'], user['last_login'], user['site'], user['site_nom']
        return {'access': access, 'refresh': refresh, 'user': user}

    @app.post('/api/token/refresh/', auth=PUBLIC, body=REFRESH,
              summary='Rafraîchir le jeton (l’ancien est révoqué)')
    def token_refresh(data):
        access, refresh = ctx.authenticator.refresh(data['refresh'])
        return {'access': access, 'refresh': refresh}

    @app.post('/api/token/verify/', auth=PUBLIC, body=VERIFY, summary='Vérifier un jeton')
    def token_verify(data):
        ctx.authenticator.verify(data['token'])
        return {}

    @app.post('/api/auth/logout/', auth=STAFF, body=REFRESH, status=204, before_password_change=True,
              summary='Déconnexion (révoque les jetons)')
    def auth_logout(compte, data):
        ctx.authenticator.logout(data['refresh'], compte, client_ip())

    @app.get('/api/auth/me/', auth=STAFF, before_password_change=True, summary='Compte courant')
    def me(compte):
        data = compte_json(compte)
        data['must_change_password'] = accounts.has_initial_password(ctx.config.data_dir, compte)
        return data

    @app.post('/api/auth/change-password/', auth=STAFF, body=CHANGE_PASSWORD, status=204,
              before_password_change=True,
              summary='Changer son mot de passe')
    def change_password(compte, data):
        ctx.authenticator.check_current_password(compte, data['old_password'], client_ip())
        accounts.update(compte, {'password': data['new_password']}, now=ctx.clock.now(),
                        authenticator=ctx.authenticator, data_dir=ctx.config.data_dir,
                        operateur=compte, ip=client_ip())
