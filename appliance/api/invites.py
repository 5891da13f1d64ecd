"""Guest passes (docs/horaires.md): access codes without a visitor, printed as tickets."""
from appliance.api.declared import STAFF
from appliance.api.http import client_ip
from appliance.api.validation import Integer, Reference
from appliance.desk.sessions import MAX_DURATION, MIN_DURATION
from appliance.models import Poste

MAX_GUESTS = 50
SCHEMA = {
    'nombre': Integer(1, MAX_GUESTS, required=True, description='Combien de codes (1 à 50).'),
    'duree_initiale': Integer(MIN_DURATION, MAX_DURATION, description='Secondes.'),
    'duree_minutes': Integer(MIN_DURATION // 60, MAX_DURATION // 60, write_only=True,
                             description='Accepté à la place de duree_initiale.'),
    'poste': Reference(Poste, null=True),
}


def routes(app, ctx):
    desk = ctx.desk

    @app.post('/api/sessions/invites/', auth=STAFF, body=SCHEMA, status=201,
              summary='Créer des codes invités (sessions sans visiteur), à imprimer en tickets')
    def create_guests(compte, data):
        from appliance.api.sessions import one_of
        duree = one_of(data, 'duree_initiale', 'duree_minutes', 60)
        sessions = desk.create_guest_sessions(data['nombre'], duree, data.get('poste'),
                                              operateur=compte, ip=client_ip())
        return {'results': desk.guest_json(sessions)}
