"""Health, the OpenAPI document and Swagger UI served from the box itself (no internet)."""
import os

import bottle
import swagger_ui_bundle
from bottle import response

from appliance import __version__, auditchain, db
from appliance.api.declared import METRICS, PUBLIC, Name
from appliance.api.openapi import document
from appliance.backup.service import freshness
from appliance.clock import iso
from appliance.tls import certificate_state

DOCS_PAGE = '''<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Poste Public — API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>
'''
DOCS_INIT = "SwaggerUIBundle({url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true});\n"
ASSET = Name({'type': 'string'})


def routes(app, ctx):
    @app.get('/api/health/', auth=PUBLIC, summary='État du service (503 si une partie est en panne)')
    def health():
        checks = {'database': 'ok' if db.ping() else 'down',
                  'scheduler': scheduler_state(ctx)}
        if ctx.relay is not None:   # several processes on PostgreSQL: do we hear the others?
            checks['relay'] = 'ok' if ctx.relay.listening else 'down'
        extra = {}
        if checks['database'] == 'ok':
            checks['backup'] = freshness(ctx.clock.now())   # "none" on a new box is no failure
            checks['journal'], verified = journal_state()   # the audit log's hash chain
            extra.update(verified)
        if ctx.certificate_expires is not None:
            # "expires_soon" is a warning, not a failure: the box still works for WARN_DAYS.
            checks['certificate'] = certificate_state(ctx.certificate_expires, ctx.clock.now())
            extra['certificate_expires'] = iso(ctx.certificate_expires)
            if checks['certificate'] == 'expires_soon':
                extra['warnings'] = [f'Le certificat HTTPS du boîtier expire le '
                                     f'{ctx.certificate_expires:%d/%m/%Y} : renouvelez-le avec '
                                     '« poste-public tls init » puis redémarrez le service.']
        healthy = all(value in ('ok', 'none', 'expires_soon') for value in checks.values())
        response.status = 200 if healthy else 503
        down = [name for name, value in checks.items() if value not in ('ok', 'none', 'expires_soon')]
        return {'status': 'ok' if healthy else 'degraded', **checks, **extra, 'version': __version__,
                **({'detail': 'En panne : ' + ', '.join(down)} if down else {})}

    @app.get('/metrics', auth=METRICS, summary='Mesures au format Prometheus (jeton METRICS_TOKEN ou administrateur)')
    def metrics():
        response.content_type = 'text/plain; version=0.0.4; charset=utf-8'
        return ctx.metrics.render(ctx)

    def journal_state():
        """'ok', 'altere' (the last verification found an edited entry) or 'none' (never verified)."""
        last = auditchain.last_result()
        if last is None:
            return 'none', {}
        if last.get('ok'):
            return 'ok', {}
        return 'altere', {'journal_premiere_alteree': last.get('premiere_alteree')}

    spec = {}   # built on first request, when every route is known

    @app.get('/api/openapi.json', auth=PUBLIC, summary='Ce document OpenAPI')
    def openapi():
        if not spec:
            spec.update(document(app))
        return spec

    @app.get('/api/docs/', auth=PUBLIC, summary='Documentation interactive (Swagger UI, servie localement)')
    def docs():
        response.content_type = 'text/html; charset=utf-8'
        return DOCS_PAGE

    @app.get('/api/docs/init.js', auth=PUBLIC, openapi=False, summary='Démarrage de Swagger UI')
    def docs_init():
        response.content_type = 'application/javascript; charset=utf-8'
        return DOCS_INIT

    @app.get('/api/docs/static/<name>', auth=PUBLIC, wildcards={'name': ASSET}, openapi=False,
             summary='Fichiers de Swagger UI')
    def docs_asset(name):
        return bottle.static_file(os.path.basename(name), root=swagger_ui_bundle.swagger_ui_path)


def scheduler_state(ctx):
    if ctx.scheduler is None:
        return 'off'
    return 'ok' if ctx.scheduler.is_alive() else 'down'
