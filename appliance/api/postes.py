"""Postes (docs/api.md): the public computers, their status and their kiosk tokens."""
from bottle import request
from peewee import IntegrityError

from appliance.api.declared import ADMIN, STAFF, Query, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate_list
from appliance.api.validation import Boolean, Choice, IPAddress, MACAddress, Reference, Text, echoing
from appliance.errors import Invalid
from appliance.api.sites import SITE_FILTER, site_scope
from appliance.models import Poste, Site
from appliance.protocol import OCCUPE, POSTE_STATUTS, STAFF_POSTE_STATUTS

OCCUPE_REFUSED = 'Le statut « occupe » est fixé par le système quand une session démarre.'

SCHEMA = {
    'nom': Text(100, blank=False, required=True),
    'ip_address': IPAddress(required=True),
    'mac_address': MACAddress(null=True),
    'emplacement': Text(200),
    # "occupe" only as the current value, echoed back unchanged (so the document leaves it out)
    'statut': Choice(POSTE_STATUTS, documented=STAFF_POSTE_STATUTS,
                     description='« occupe » est accepté seulement s’il est déjà le statut.'),
    'site': Reference(Site),
}
SCHEMA = echoing(SCHEMA, 'id', 'created_at', 'updated_at', 'derniere_connexion', 'en_ligne', 'adresse_kiosque',
                 'session_active', 'kiosk_token')
STATUS = {'statut': Choice(STAFF_POSTE_STATUTS, required=True, refused={OCCUPE: OCCUPE_REFUSED}),
          'force': Boolean()}
UNIQUE = {'nom': 'Un poste porte déjà ce nom.', 'ip_address': 'Un poste a déjà cette adresse IP.',
          'mac_address': 'Un poste a déjà cette adresse MAC.'}
POSTE = Row(Poste, 'Poste introuvable.')
STATUT_FILTER = Query('statut', {'type': 'string', 'enum': list(POSTE_STATUTS)})


def check_unique(data, current=None):
    errors = {}
    for field, message in UNIQUE.items():
        value = data.get(field)
        if value is None:
            continue
        query = Poste.select().where(getattr(Poste, field) == value)
        if current is not None:
            query = query.where(Poste.id != current.id)
        if query.exists():
            errors[field] = [message]
    if errors:
        raise Invalid(errors)


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/postes/', auth=STAFF, query=(STATUT_FILTER, SITE_FILTER, *PAGINATION), summary='Liste des postes')
    def list_postes(compte):
        site = site_scope(compte)
        statut = request.query.get('statut') or None
        if statut is not None and statut not in POSTE_STATUTS:
            raise Invalid({'statut': [f'Statut inconnu : {", ".join(POSTE_STATUTS)}.']})
        return paginate_list(desk.room_json(statut, site=site))

    @app.post('/api/postes/', auth=ADMIN, body=SCHEMA, status=201,
              summary='Créer un poste (renvoie kiosk_token une seule fois)')
    def create_poste(compte, data):
        if data.get('statut') == 'occupe':
            raise Invalid({'statut': [OCCUPE_REFUSED]})
        check_unique(data)
        try:
            poste, token = desk.create_poste(data, operateur=compte, ip=client_ip())
        except IntegrityError:
            check_unique(data)
            raise
        result = desk.poste_json(poste)
        result['kiosk_token'] = token
        return result

    @app.get('/api/postes/<poste_id:re:[0-9]+>/', auth=STAFF, wildcards={'poste_id': POSTE}, summary='Détail d’un poste')
    def show_poste(poste):
        return desk.poste_json(poste)

    @app.put('/api/postes/<poste_id:re:[0-9]+>/', auth=ADMIN, wildcards={'poste_id': POSTE}, body=SCHEMA,
             summary='Modifier un poste')
    @app.patch('/api/postes/<poste_id:re:[0-9]+>/', auth=ADMIN, wildcards={'poste_id': POSTE}, body=SCHEMA,
               summary='Modifier un poste (partiel)')
    def update_poste(poste, compte, data):
        check_unique(data, current=poste)
        desk.move_poste_check(poste, data.get('site'))
        statut = data.pop('statut', None)
        # The status first: when its rules refuse (409, 400), nothing else has changed.
        if statut is not None and statut != poste.statut:
            poste = desk.set_poste_status(poste, statut, operateur=compte, ip=client_ip())
        poste = desk.update_poste(poste, data, operateur=compte, ip=client_ip())
        return desk.poste_json(poste)

    @app.delete('/api/postes/<poste_id:re:[0-9]+>/', auth=ADMIN, wildcards={'poste_id': POSTE}, status=204,
                summary='Supprimer un poste')
    def delete_poste(poste, compte):
        desk.delete_poste(poste, operateur=compte, ip=client_ip())

    # PATCH and POST take the whole body, like PUT.
    @app.put('/api/postes/<poste_id:re:[0-9]+>/status/', auth=STAFF, wildcards={'poste_id': POSTE}, body=STATUS,
             summary='Changer le statut (force pour terminer la session)')
    @app.patch('/api/postes/<poste_id:re:[0-9]+>/status/', auth=STAFF, wildcards={'poste_id': POSTE}, body=STATUS,
               partial=False, summary='Changer le statut (comme PUT)')
    @app.post('/api/postes/<poste_id:re:[0-9]+>/status/', auth=STAFF, wildcards={'poste_id': POSTE}, body=STATUS,
              summary='Changer le statut (comme PUT)')
    def set_status(poste, compte, data):
        poste = desk.set_poste_status(poste, data['statut'], force=data.get('force', False),
                                      operateur=compte, ip=client_ip())
        return desk.poste_json(poste)

    @app.post('/api/postes/<poste_id:re:[0-9]+>/token/', auth=ADMIN, wildcards={'poste_id': POSTE},
              summary='Nouveau jeton de kiosque (l’ancien cesse de valoir)')
    def new_token(poste, compte):
        token = desk.issue_kiosk_token(poste, operateur=compte, ip=client_ip())
        return {'id': poste.id, 'kiosk_token': token}
