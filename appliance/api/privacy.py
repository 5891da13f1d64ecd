"""Privacy and legal requests (docs/rgpd.md, docs/api.md): erasure and access of a visitor's data,
requisitions, the audit log's verification, the charter."""
import csv
import hashlib
import io

import bottle
from bottle import request

from appliance import auditchain
from appliance.api.declared import ADMIN, STAFF, Query, Row
from appliance.api.http import client_ip, dumps
from appliance.api.pagination import int_param
from appliance.api.validation import Text, parse_datetime_param
from appliance.clock import iso
from appliance.desk.privacy import REQUISITION_COLUMNS
from appliance.errors import Invalid
from appliance.models import Poste, Utilisateur
from appliance.serializers import utilisateur_json

UTILISATEUR = Row(Utilisateur, 'Visiteur introuvable.')
CHARTE = {'texte': Text(20000, required=True,
                        description='Le texte de la charte ; vide : plus aucune charte à accepter.')}
REQUISITION = (
    Query('motif', {'type': 'string', 'maxLength': 200},
          'Obligatoire : la référence de la réquisition (numéro de procès-verbal, de procédure…).'),
    Query('debut', {'type': 'string'}, 'Obligatoire : début de la période (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS, UTC).'),
    Query('fin', {'type': 'string'}, 'Obligatoire : fin de la période, même format ; une date seule inclut sa journée.'),
    Query('poste', {'type': 'integer', 'minimum': 1}, 'Seulement les sessions de ce poste.'),
    Query('utilisateur', {'type': 'integer', 'minimum': 1}, 'Seulement les sessions de ce visiteur.'),
    Query('format', {'type': 'string', 'enum': ['csv', 'json']}, 'csv (par défaut) ou json.'),
)
FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def csv_cell(value):
    """A cell as text; one that starts like a spreadsheet formula gets a leading apostrophe."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'oui' if value else 'non'
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def requisition_csv(rows):
    """UTF-8 with a byte order mark, ";" between fields, CRLF: what French Excel opens right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=';', lineterminator='\r\n')
    writer.writerow(REQUISITION_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[name]) for name in REQUISITION_COLUMNS])
    return ('\ufeff' + out.getvalue()).encode('utf-8')


def query_text(name, required, max_length=200):
    raw = request.query.getunicode(name)
    raw = raw.strip() if raw else ''
    if '\x00' in raw:
        raise Invalid({name: ['Caractère nul interdit.']})
    if required and not raw:
        raise Invalid({name: ['Ce paramètre est obligatoire.']})
    if len(raw) > max_length:
        raise Invalid({name: [f'Au plus {max_length} caractères.']})
    return raw


def routes(app, ctx):
    desk = ctx.desk

    @app.post('/api/utilisateurs/<uid:re:[0-9]+>/anonymiser/', auth=ADMIN, wildcards={'uid': UTILISATEUR},
              summary='Anonymiser un visiteur maintenant (droit à l’effacement ; 409 pendant une session)')
    def anonymise(u, compte):
        return utilisateur_json(desk.anonymise_visitor(u, operateur=compte, ip=client_ip()))

    @app.get('/api/utilisateurs/<uid:re:[0-9]+>/export/', auth=ADMIN, wildcards={'uid': UTILISATEUR},
             summary='Exporter tout ce qui est conservé sur un visiteur (droit d’accès ; JSON, photo en base64)')
    def export(u, compte):
        body = dumps(desk.export_visitor(u, operateur=compte, ip=client_ip())).encode('utf-8')
        return bottle.HTTPResponse(body, headers={
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Disposition': f'attachment; filename="donnees-visiteur-{u.id}.json"',
            'Cache-Control': 'private, no-store'})

    @app.get('/api/requisitions/', auth=ADMIN, query=REQUISITION,
             summary='Réquisition judiciaire : sessions d’une période (CSV ; en-tête X-Content-SHA256)')
    def requisition(compte):
        errors = {}
        values = {}
        for name, check in (('motif', lambda: query_text('motif', True)),
                            ('debut', lambda: moment('debut')), ('fin', lambda: moment('fin')),
                            ('poste', lambda: row(Poste, 'poste')),
                            ('utilisateur', lambda: row(Utilisateur, 'utilisateur'))):
            try:
                values[name] = check()
            except Invalid as exc:
                errors.update(exc.errors)
        kind = request.query.get('format') or 'csv'
        if kind not in ('csv', 'json'):
            errors['format'] = ['csv ou json.']
        if errors:
            raise Invalid(errors)
        rows = desk.requisition(**values, operateur=compte, ip=client_ip())
        if kind == 'json':
            body = dumps({'motif': values['motif'], 'debut': iso(values['debut']), 'fin': iso(values['fin']),
                          'count': len(rows), 'results': rows}).encode('utf-8')
            content_type, name = 'application/json; charset=utf-8', 'requisition.json'
        else:
            body, content_type, name = requisition_csv(rows), 'text/csv; charset=utf-8', 'requisition.csv'
        return bottle.HTTPResponse(body, headers={
            'Content-Type': content_type, 'X-Content-SHA256': hashlib.sha256(body).hexdigest(),
            'Content-Disposition': f'attachment; filename="{name}"', 'Cache-Control': 'private, no-store'})

    def moment(name):
        raw = query_text(name, True, 40)
        when = parse_datetime_param(name, raw)
        if name == 'fin' and len(raw) == 10:
            when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
        return when

    def row(model, name):
        number = int_param(name)
        if number is None:
            return None
        found = model.get_or_none(model.id == number)
        if found is None:
            raise Invalid({name: [f'Identifiant « {number} » introuvable.']})
        return found

    @app.get('/api/logs/verification/', auth=ADMIN,
             summary='Vérifier la chaîne d’empreintes du journal d’audit')
    def verify_log():
        result = auditchain.verify()
        auditchain.store_result(result, ctx.clock.now())
        return result

    @app.get('/api/rgpd/', auth=ADMIN,
             summary='Conservation des données : durées, dernière purge, dernière vérification du journal')
    def privacy_state():
        config = ctx.config
        return {'session_retention_days': config.session_retention_days,
                'visitor_retention_days': config.visitor_retention_days,
                'log_retention_days': config.log_retention_days,
                'age_consentement': config.age_consentement,
                'derniere_purge': desk.last_retention(),
                'verification_journal': auditchain.last_result()}

    @app.get('/api/charte/', auth=STAFF, summary='La charte d’utilisation en vigueur (version 0 : aucune)')
    def get_charter():
        return charter_json(desk.current_charter())

    @app.put('/api/charte/', auth=ADMIN, body=CHARTE,
             summary='Modifier la charte (sa version augmente de un)')
    def put_charter(compte, data):
        return charter_json(desk.set_charter(data['texte'], operateur=compte, ip=client_ip()))


def charter_json(charte):
    if charte is None:
        return {'version': 0, 'texte': '', 'operateur': '', 'modifiee_le': None}
    return {'version': charte.version, 'texte': charte.texte, 'operateur': charte.operateur,
            'modifiee_le': iso(charte.created_at)}
