"""Live control of the postes (docs/api.md, « Contrôle des postes »): messages, commands and
Wake-on-LAN, the pause of a session, visitors' requests for more time."""

from appliance.api.declared import STAFF, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate
from appliance.api.validation import Boolean, Choice, Field, Integer, Problem, Text
from appliance.desk.sessions import MAX_ADDED, MIN_ADDED
from appliance.models import DemandeTemps, Poste, Session
from appliance.protocol import COMMANDES
from appliance.serializers import demande_json

MAX_MESSAGE = 500
MAX_POSTES = 1000


class PosteIds(Field):
    """A list of poste ids (each must exist), or null for every connected kiosk."""
    type_name = 'array'

    def clean(self, value):
        if not isinstance(value, list):
            raise Problem('Une liste d’identifiants de postes est requise (ou null : tous les postes connectés).')
        if not value:
            raise Problem('Choisissez au moins un poste.')
        if len(value) > MAX_POSTES:
            raise Problem(f'Au plus {MAX_POSTES} postes.')
        ids = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2 ** 63:
                raise Problem('Identifiant invalide.')
            if item not in ids:
                ids.append(item)
        postes = {p.id: p for p in Poste.select().where(Poste.id.in_(ids))}
        missing = [str(i) for i in ids if i not in postes]
        if missing:
            raise Problem(f'Poste(s) introuvable(s) : {", ".join(missing)}.')
        return [postes[i] for i in ids]

    def openapi(self):
        return {**super().openapi(), 'items': {'type': 'integer', 'minimum': 1}, 'nullable': True,
                'minItems': 1, 'maxItems': MAX_POSTES}


MESSAGE = {'message': Text(MAX_MESSAGE, blank=False, required=True)}
BROADCAST = {**MESSAGE, 'postes': PosteIds(null=True, description='null : tous les kiosques connectés.')}
COMMANDE = {'commande': Choice(COMMANDES, required=True),
            'force': Boolean(description='Redémarrer ou éteindre malgré une session en cours (elle est terminée).')}
ACCEPT = {'seconds': Integer(MIN_ADDED, MAX_ADDED, description='Secondes accordées (par défaut : celles demandées).')}
REFUSE = {'motif': Text(500, description='Montré au visiteur.')}
POSTE = Row(Poste, 'Poste introuvable.')
SESSION = Row(Session, 'Session introuvable.')
DEMANDE = Row(DemandeTemps, 'Demande introuvable.')


def routes(app, ctx):
    desk = ctx.desk

    @app.post('/api/postes/message/', auth=STAFF, body=BROADCAST,
              summary='Envoyer un message à plusieurs postes (postes null : tous les kiosques connectés)')
    def broadcast(compte, data):
        postes = data.get('postes')
        return desk.send_message(postes, data['message'], operateur=compte, ip=client_ip())

    @app.post('/api/postes/<poste_id:re:[0-9]+>/message/', auth=STAFF, wildcards={'poste_id': POSTE}, body=MESSAGE,
              summary='Envoyer un message au kiosque d’un poste')
    def message(poste, compte, data):
        return desk.send_message([poste], data['message'], operateur=compte, ip=client_ip())

    @app.post('/api/postes/<poste_id:re:[0-9]+>/commande/', auth=STAFF, wildcards={'poste_id': POSTE}, body=COMMANDE,
              summary='Commande à distance : verrouiller, déconnecter, redémarrer, éteindre, réveiller')
    def command(poste, compte, data):
        return desk.send_command(poste, data['commande'], force=data.get('force', False),
                                 operateur=compte, ip=client_ip())

    @app.post('/api/sessions/<session_id:re:[0-9]+>/pause/', auth=STAFF, wildcards={'session_id': SESSION},
              summary='Mettre une session en pause (le temps s’arrête)')
    def pause(session, compte):
        return desk.session_json(desk.pause(session, operateur=compte, ip=client_ip()))

    @app.post('/api/sessions/<session_id:re:[0-9]+>/reprise/', auth=STAFF, wildcards={'session_id': SESSION},
              summary='Reprendre une session en pause')
    def resume(session, compte):
        return desk.session_json(desk.resume(session, operateur=compte, ip=client_ip()))

    @app.get('/api/demandes/', auth=STAFF, query=PAGINATION, summary='Demandes de temps en attente')
    def list_demandes():
        return paginate(desk.pending_demandes(), lambda rows: [demande_json(d) for d in rows])

    @app.post('/api/demandes/<demande_id:re:[0-9]+>/accepter/', auth=STAFF, wildcards={'demande_id': DEMANDE},
              body=ACCEPT, summary='Accepter une demande de temps')
    def accept(demande, compte, data):
        return demande_json(desk.accept_demande(demande, data.get('seconds'), operateur=compte, ip=client_ip()))

    @app.post('/api/demandes/<demande_id:re:[0-9]+>/refuser/', auth=STAFF, wildcards={'demande_id': DEMANDE},
              body=REFUSE, summary='Refuser une demande de temps (motif montré au visiteur)')
    def refuse(demande, compte, data):
        return demande_json(desk.refuse_demande(demande, data.get('motif', ''), operateur=compte, ip=client_ip()))
