"""The audit log, read-only (docs/api.md)."""
from bottle import request

from appliance.api.http import get_or_404, require_staff
from appliance.api.pagination import int_param, paginate
from appliance.api.validation import parse_datetime_param
from appliance.audit import ACTIONS, to_json
from appliance.errors import Invalid
from appliance.models import Log


def routes(app, ctx):
    @app.get('/api/logs/')
    def list_logs():
        require_staff(ctx)
        query = Log.select().order_by(Log.created_at.desc(), Log.id.desc())
        action = request.query.get('action')
        if action:
            if action not in ACTIONS:
                raise Invalid({'action': ['Action inconnue.']})
            query = query.where(Log.action == action)
        for name in ('utilisateur', 'poste', 'session'):
            value = int_param(name)
            if value is not None:
                query = query.where(getattr(Log, name) == value)
        for name, compare in (('date_min', '__ge__'), ('date_max', '__le__')):
            raw = request.query.get(name)
            if raw:
                when = parse_datetime_param(name, raw)
                if name == 'date_max' and len(raw.strip()) == 10:
                    when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
                query = query.where(getattr(Log.created_at, compare)(when))
        return paginate(query, lambda rows: [to_json(e) for e in rows])

    @app.get('/api/logs/<log_id>/')
    def show_log(log_id):
        require_staff(ctx)
        return to_json(get_or_404(Log, log_id, 'Entrée du journal introuvable.'))
