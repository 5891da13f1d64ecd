"""Sessions (docs/api.md): access codes, their validation by kiosks, time, ending."""
from bottle import request
from peewee import JOIN

from appliance.api.declared import KIOSK, STAFF, Query, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, int_param, paginate
from appliance.api.validation import Boolean, Integer, OneOf, Reference, Text
from appliance.errors import Invalid
from appliance.desk.privacy import CharterRequired
from appliance.desk.sessions import MAX_ADDED, MAX_DURATION, MIN_ADDED, MIN_DURATION
from appliance.api.sites import SITE_FILTER, site_scope
from appliance.desk.sites import check_site
from appliance.models import Poste, Session, Site, Utilisateur
from appliance.protocol import SESSION_STATUTS, Reason, normalise_code
from appliance.serializers import kiosk_session_json, session_json, temps_restant

CREATE = {
    'utilisateur': Reference(Utilisateur, required=True),
    'poste': Reference(Poste, null=True),
    'duree_initiale': Integer(MIN_DURATION, MAX_DURATION, description='Secondes.'),
    'duree_minutes': Integer(MIN_DURATION // 60, MAX_DURATION // 60, write_only=True,
                             description='Accepté à la place de duree_initiale.'),
    'notes': Text(2000),
    '_duree': OneOf('duree_initiale', 'duree_minutes'),
    'site': Reference(Site, null=True),
}
CREATE['force'] = Boolean(description='Vrai : créer malgré le quota ou l’âge de la catégorie (journalisé).')
VALIDATE = {'code': Text(20, blank=False), 'code_acces': Text(20, blank=False, write_only=True),
            'poste': Reference(Poste, null=True), '_code': OneOf('code', 'code_acces'),
            'charte_version': Integer(1, description='La version de la charte que le visiteur vient '
                                                     'd’accepter (réponse à `charte_requise`).')}
ADD_TIME = {'seconds': Integer(MIN_ADDED, MAX_ADDED),
            'minutes': Integer(MIN_ADDED // 60, MAX_ADDED // 60, write_only=True),
            'force': Boolean(description='Vrai : ajouter malgré le quota (journalisé).'),
            '_duree': OneOf('seconds', 'minutes')}
TERMINATE = {'raison': Text(500)}
SESSION = Row(Session, 'Session introuvable.')
FILTERS = (
    Query('statut', {'type': 'string',   # empty: no filter
                     'pattern': f'^(({"|".join(SESSION_STATUTS)})(,({"|".join(SESSION_STATUTS)}))*)?$'},
          f'Un ou plusieurs statuts, séparés par des virgules : {", ".join(SESSION_STATUTS)}.'),
    Query('poste', {'type': 'integer', 'minimum': 1}, 'Identifiant du poste.'),
    Query('utilisateur', {'type': 'integer', 'minimum': 1}, 'Identifiant du visiteur.'),
    SITE_FILTER,
)


def one_of(data, first, second, factor=1):
    """The value of `first`, or of `second` times `factor`; 400 when neither was given."""
    if first in data:
        return data[first]
    if second in data:
        return data[second] * factor
    raise Invalid({first: ['Ce champ est obligatoire.']})


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/sessions/', auth=STAFF, query=FILTERS + PAGINATION, summary='Liste des sessions')
    def list_sessions(compte):
        site = site_scope(compte)
        query = (Session.select(Session, Utilisateur, Poste)
                 .join(Utilisateur, JOIN.LEFT_OUTER).switch(Session).join(Poste, JOIN.LEFT_OUTER)
                 .order_by(Session.created_at.desc(), Session.id.desc()))
        if site is not None:
            query = query.where(Session.site == site)
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

    @app.post('/api/sessions/', auth=STAFF, body=CREATE, status=201,
              summary='Créer une session et son code d’accès')
    def create_session(compte, data):
        duree = one_of(data, 'duree_initiale', 'duree_minutes', 60)
        session = desk.create_session(data['utilisateur'], data.get('poste'), duree,
                                      notes=data.get('notes', ''), operateur=compte, ip=client_ip(),
                                      site=data.get('site'), force=data.get('force', False))
        return desk.session_json(session)

    @app.get('/api/sessions/<session_id:re:[0-9]+>/', auth=STAFF, wildcards={'session_id': SESSION},
             summary='Détail d’une session')
    def show_session(session):
        return desk.session_json(session)

    @app.post('/api/sessions/validate-code/', auth=KIOSK, body=VALIDATE,
              summary='Valider un code (kiosque : X-Poste-Token)')
    @app.post('/api/sessions/validate_code/', auth=KIOSK, body=VALIDATE,
              summary='Valider un code (orthographe des clients d’origine)')
    def validate_code(compte, kiosk, data):
        poste, operateur = kiosk, compte or ''
        code = data.get('code') or data.get('code_acces')
        if not code:
            raise Invalid({'code': ['Ce champ est obligatoire.']})
        if poste is None:
            poste = data.get('poste') or bound_poste(code)
            check_site(compte, poste)   # staff start sessions on their own site's postes only
        try:
            session = desk.validate_code(code, poste, source_ip=client_ip(), operateur=operateur,
                                         charte_version=data.get('charte_version'))
        except CharterRequired as required:   # not started: the visitor must accept it first
            return {'valid': True, 'charte_requise': required.to_json()}
        now = ctx.clock.now()
        shown = session_json(session, now)
        if not operateur:   # a kiosk: no staff notes, no librarian's name
            shown = kiosk_session_json(shown)
        return {'valid': True, 'session': shown, 'temps_restant': temps_restant(session, now),
                'limite_fermeture': bool(session.limite_fermeture)}

    def bound_poste(code):
        session = Session.get_or_none(Session.code_acces == normalise_code(code),
                                      Session.statut.in_(('en_attente', 'active')))
        if session is None or session.poste_id is None:
            raise Invalid({'poste': ['Indiquez le poste sur lequel démarrer la session.']})
        return session.poste

    @app.post('/api/sessions/<session_id:re:[0-9]+>/add-time/', auth=STAFF, wildcards={'session_id': SESSION}, body=ADD_TIME,
              summary='Ajouter du temps')
    @app.post('/api/sessions/<session_id:re:[0-9]+>/add_time/', auth=STAFF, wildcards={'session_id': SESSION}, body=ADD_TIME,
              summary='Ajouter du temps (orthographe des clients d’origine)')
    def add_time(session, compte, data):
        seconds = one_of(data, 'seconds', 'minutes', 60)
        session = desk.add_time(session, seconds, operateur=compte, ip=client_ip(), force=data.get('force', False))
        return desk.session_json(session)

    @app.post('/api/sessions/<session_id:re:[0-9]+>/terminate/', auth=STAFF, wildcards={'session_id': SESSION}, body=TERMINATE,
              summary='Terminer la session')
    def terminate(session, compte, data):
        session = desk.terminate(session, raison=Reason.BY_STAFF, note=data.get('raison', ''),
                                 operateur=compte, ip=client_ip())
        return desk.session_json(session)
