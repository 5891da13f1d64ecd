"""Postes (docs/api.md): the public computers, their status and their kiosk tokens."""
from bottle import request
from peewee import IntegrityError

from appliance.api.http import (body, client_ip, created, get_or_404, no_content, require_admin,
                                require_staff)
from appliance.api.pagination import paginate_list
from appliance.api.validation import Boolean, Choice, IPAddress, MACAddress, Text, validate
from appliance.errors import Invalid
from appliance.models import Poste
from appliance.protocol import POSTE_STATUTS

SCHEMA = {
    'nom': Text(100, blank=False, required=True),
    'ip_address': IPAddress(required=True),
    'mac_address': MACAddress(null=True),
    'emplacement': Text(200),
    'statut': Choice(POSTE_STATUTS),   # "occupe" only as the current value, echoed back unchanged
}
STATUS = {'statut': Choice(POSTE_STATUTS, required=True), 'force': Boolean()}
UNIQUE = {'nom': 'Un poste porte déjà ce nom.', 'ip_address': 'Un poste a déjà cette adresse IP.',
          'mac_address': 'Un poste a déjà cette adresse MAC.'}


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

    def get_poste(poste_id):
        return get_or_404(Poste, poste_id, 'Poste introuvable.')

    @app.get('/api/postes/')
    def list_postes():
        require_staff(ctx)
        statut = request.query.get('statut') or None
        if statut is not None and statut not in POSTE_STATUTS:
            raise Invalid({'statut': [f'Statut inconnu : {", ".join(POSTE_STATUTS)}.']})
        return paginate_list(desk.room_json(statut))

    @app.post('/api/postes/')
    def create_poste():
        compte = require_admin(ctx)
        data = validate(body(), SCHEMA)
        if data.get('statut') == 'occupe':
            raise Invalid({'statut': ['Le statut « occupe » est fixé par le système quand une session démarre.']})
        check_unique(data)
        try:
            poste, token = desk.create_poste(data, operateur=compte, ip=client_ip())
        except IntegrityError:
            check_unique(data)
            raise
        result = desk.poste_json(poste)
        result['kiosk_token'] = token
        return created(result)

    @app.get('/api/postes/<poste_id>/')
    def show_poste(poste_id):
        require_staff(ctx)
        return desk.poste_json(get_poste(poste_id))

    @app.route('/api/postes/<poste_id>/', method=['PUT', 'PATCH'])
    def update_poste(poste_id):
        compte = require_admin(ctx)
        poste = get_poste(poste_id)
        data = validate(body(), SCHEMA, partial=request.method == 'PATCH')
        check_unique(data, current=poste)
        statut = data.pop('statut', None)
        # The status first: when its rules refuse (409, 400), nothing else has changed.
        if statut is not None and statut != poste.statut:
            poste = desk.set_poste_status(poste, statut, operateur=compte, ip=client_ip())
        poste = desk.update_poste(poste, data, operateur=compte, ip=client_ip())
        return desk.poste_json(poste)

    @app.delete('/api/postes/<poste_id>/')
    def delete_poste(poste_id):
        compte = require_admin(ctx)
        desk.delete_poste(get_poste(poste_id), operateur=compte, ip=client_ip())
        return no_content()

    @app.route('/api/postes/<poste_id>/status/', method=['PUT', 'PATCH', 'POST'])
    def set_status(poste_id):
        compte = require_staff(ctx)
        poste = get_poste(poste_id)
        data = validate(body(), STATUS)
        poste = desk.set_poste_status(poste, data['statut'], force=data.get('force', False),
                                      operateur=compte, ip=client_ip())
        return desk.poste_json(poste)

    @app.post('/api/postes/<poste_id>/token/')
    def new_token(poste_id):
        compte = require_admin(ctx)
        poste = get_poste(poste_id)
        token = desk.issue_kiosk_token(poste, operateur=compte, ip=client_ip())
        return {'id': poste.id, 'kiosk_token': token}
