"""Sessions (docs/api.md): access codes, their validation by kiosks, time, ending."""
from bottle import request
from peewee import JOIN

from appliance.api.http import bearer_token, body, client_ip, created, get_or_404, require_staff
from appliance.api.pagination import int_param, paginate
from appliance.api.validation import Integer, Reference, Text, validate
from appliance.errors import Forbidden, Invalid, Unauthorized
from appliance.desk.sessions import MAX_ADDED, MAX_DURATION, MIN_ADDED, MIN_DURATION
from appliance.models import Poste, Session, Utilisateur
from appliance.protocol import SESSION_STATUTS, Reason, normalise_code
from appliance.serializers import session_json, temps_restant

CREATE = {
    'utilisateur': Reference(Utilisateur, required=True),
    'poste': Reference(Poste, null=True),
    'duree_initiale': Integer(MIN_DURATION, MAX_DURATION, description='Secondes.'),
    'duree_minutes': Integer(MIN_DURATION // 60, MAX_DURATION // 60, write_only=True,
                             description='Accepté à la place de duree_initiale.'),
    'notes': Text(2000),
}
VALIDATE = {'code': Text(20, blank=False), 'code_acces': Text(20, blank=False, write_only=True),
            'poste': Reference(Poste, null=True)}
ADD_TIME = {'seconds': Integer(MIN_ADDED, MAX_ADDED),
            'minutes': Integer(MIN_ADDED // 60, MAX_ADDED // 60, write_only=True)}
TERMINATE = {'raison': Text(500)}


def one_of(data, first, second, factor=1):
    """The value of `first`, or of `second` times `factor`; 400 when neither was given."""
    if first in data:
        return data[first]
    if second in data:
        return data[second] * factor
    raise Invalid({first: ['Ce champ est obligatoire.']})


def routes(app, ctx):
    desk = ctx.desk

    def get_session(session_id):
        return get_or_404(Session, session_id, 'Session introuvable.')

    @app.get('/api/sessions/')
    def list_sessions():
        require_staff(ctx)
        query = (Session.select(Session, Utilisateur, Poste)
                 .join(Utilisateur, JOIN.LEFT_OUTER).switch(Session).join(Poste, JOIN.LEFT_OUTER)
                 .order_by(Session.created_at.desc(), Session.id.desc()))
        statut = request.query.get('statut')
        if statut:
            statuts = statut.split(',')
            if any(s not in SESSION_STATUTS for s in statuts):
                raise Invalid({'statut': [f'Statut inconnu : {", ".join(SESSION_STATUTS)}.']})
            query = query.where(Session.statut.in_(statuts))
        for name, column in (('poste', Session.poste), ('utilisateur', Session.utilisateur)):
            value = int_param(name)
            if value is not None:
                query = query.where(column == value)
        now = ctx.clock.now()
        return paginate(query, lambda rows: [session_json(s, now) for s in rows])

    @app.post('/api/sessions/')
    def create_session():
        compte = require_staff(ctx)
        data = validate(body(), CREATE)
        duree = one_of(data, 'duree_initiale', 'duree_minutes', 60)
        session = desk.create_session(data['utilisateur'], data.get('poste'), duree,
                                      notes=data.get('notes', ''), operateur=compte, ip=client_ip())
        return created(desk.session_json(session))

    @app.get('/api/sessions/<session_id>/')
    def show_session(session_id):
        require_staff(ctx)
        return desk.session_json(get_session(session_id))

    @app.post('/api/sessions/validate-code/')
    def validate_code():
        poste, operateur = kiosk_or_staff()
        data = validate(body(), VALIDATE)
        code = data.get('code') or data.get('code_acces')
        if not code:
            raise Invalid({'code': ['Ce champ est obligatoire.']})
        if poste is None:
            poste = data.get('poste') or bound_poste(code)
        session = desk.validate_code(code, poste, source_ip=client_ip(), operateur=operateur)
        now = ctx.clock.now()
        return {'valid': True, 'session': session_json(session, now),
                'temps_restant': temps_restant(session, now)}

    def kiosk_or_staff():
        """(poste, operateur): a kiosk proves its poste; staff name it in the body."""
        token = request.get_header('X-Poste-Token')
        if token:
            poste = desk.poste_for_token(token)
            if poste is None:
                raise Forbidden('Jeton de poste invalide.', body={'valid': False})
            return poste, ''
        if bearer_token():
            return None, require_staff(ctx)
        if ctx.config.kiosk_auth == 'ip':
            poste = desk.poste_for_address(client_ip())
            if poste is not None:
                return poste, ''
            raise Forbidden('Cette adresse ne correspond à aucun poste.', body={'valid': False})
        raise Unauthorized('Authentification requise : jeton de poste ou de personnel.',
                           body={'valid': False})

    def bound_poste(code):
        session = Session.get_or_none(Session.code_acces == normalise_code(code),
                                      Session.statut.in_(('en_attente', 'active')))
        if session is None or session.poste_id is None:
            raise Invalid({'poste': ['Indiquez le poste sur lequel démarrer la session.']})
        return session.poste

    @app.post('/api/sessions/<session_id>/add-time/')
    def add_time(session_id):
        compte = require_staff(ctx)
        session = get_session(session_id)
        data = validate(body(), ADD_TIME)
        seconds = one_of(data, 'seconds', 'minutes', 60)
        session = desk.add_time(session, seconds, operateur=compte, ip=client_ip())
        return desk.session_json(session)

    @app.post('/api/sessions/<session_id>/terminate/')
    def terminate(session_id):
        compte = require_staff(ctx)
        session = get_session(session_id)
        data = validate(body(), TERMINATE)
        session = desk.terminate(session, raison=Reason.BY_STAFF, note=data.get('raison', ''),
                                 operateur=compte, ip=client_ip())
        return desk.session_json(session)
