"""GET /metrics in Prometheus' text format: what an installer's monitoring wants to see.

Requests are counted per route pattern (never per path: ids are not labels) with a latency
histogram; warnings and closes with how late they were; the rest (postes online, sessions by
state, backup age) is read when scraped. Nothing here names a visitor.
"""
import re
import time
from collections import defaultdict
from datetime import datetime

from bottle import response
from peewee import fn

from appliance import __version__, auditchain
from appliance.backup.service import LAST_SUCCESS
from appliance.models import Session, State

FILTER = re.compile(r":[^>]*>")   # a wildcard's filter in a route rule: <poste_id:re:[0-9]+>
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class Histogram:
    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value):
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += value

    def lines(self, name, labels):
        sep = ',' if labels else ''
        for bound, count in zip(self.buckets, self.counts):
            yield f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {count}'
        yield f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.total}'
        yield f'{name}_sum{{{labels}}} {self.sum:.6f}'
        yield f'{name}_count{{{labels}}} {self.total}'


class Metrics:
    """Also a bottle plugin (app.install(metrics)): times each route by its pattern."""
    name, api = 'metrics', 2

    def __init__(self):
        self.started = time.monotonic()
        self.requests = defaultdict(int)                      # (method, route, status) -> count
        self.latency = defaultdict(lambda: Histogram(LATENCY_BUCKETS))   # (method, route)
        self.lateness = defaultdict(lambda: Histogram(LATENESS_BUCKETS))  # 'warning' / 'close'

    def observe_request(self, method, route, status, seconds):
        self.requests[(method, route, status)] += 1
        self.latency[(method, route)].observe(seconds)

    def observe_lateness(self, kind, seconds):
        self.lateness[kind].observe(max(0.0, seconds))

    def apply(self, callback, route):
        pattern = FILTER.sub('>', route.rule)   # /api/postes/<poste_id>/, without the id's filter

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return callback(*args, **kwargs)
            finally:
                self.observe_request(route.method, pattern, response.status_code,
                                     time.perf_counter() - start)
        return wrapper

    def render(self, ctx):
        out = []

        def metric(name, kind, help_text, samples):
            out.append(f'# HELP {name} {help_text}')
            out.append(f'# TYPE {name} {kind}')
            out.extend(samples)

        desk = ctx.desk
        postes = [poste for poste, _, _ in desk.room.entries()]
        online = sum(1 for poste in postes if desk.presence(poste)[0])
        metric('poste_public_info', 'gauge', 'Version of the appliance.',
               [f'poste_public_info{{version="{__version__}"}} 1'])
        metric('poste_public_uptime_seconds', 'gauge', 'Seconds since the process started.',
               [f'poste_public_uptime_seconds {time.monotonic() - self.started:.0f}'])
        metric('poste_public_postes', 'gauge', 'Postes by status.',
               [f'poste_public_postes{{statut="{statut}"}} '
                f'{sum(1 for p in postes if p.statut == statut)}'
                for statut in ('disponible', 'occupe', 'hors_ligne', 'maintenance')])
        metric('poste_public_postes_online', 'gauge', 'Postes whose kiosk gave a sign of life recently.',
               [f'poste_public_postes_online {online}'])
        if ctx.hub is not None:
            metric('poste_public_kiosk_connections', 'gauge', 'Open kiosk WebSockets.',
                   [f'poste_public_kiosk_connections {ctx.hub.connected_kiosks()}'])
            metric('poste_public_staff_connections', 'gauge', 'Open staff live feeds.',
                   [f'poste_public_staff_connections {ctx.hub.connected_staff()}'])
        counts = dict(Session.select(Session.statut, fn.COUNT(Session.id)).group_by(Session.statut).tuples())
        metric('poste_public_sessions', 'gauge', 'Sessions by status.',
               [f'poste_public_sessions{{statut="{statut}"}} {counts.get(statut, 0)}'
                for statut in ('en_attente', 'active', 'suspendue', 'terminee', 'expiree')])
        metric('poste_public_session_event_lateness_seconds', 'histogram',
               'How late warnings and expiries fired after their exact moment.',
               [line for kind, hist in sorted(self.lateness.items())
                for line in hist.lines('poste_public_session_event_lateness_seconds', f'kind="{kind}"')])
        metric('poste_public_http_requests_total', 'counter', 'HTTP requests by route pattern and status.',
               [f'poste_public_http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}'
                for (m, r, s), n in sorted(self.requests.items())])
        metric('poste_public_http_request_duration_seconds', 'histogram', 'HTTP request latency.',
               [line for (m, r), hist in sorted(self.latency.items())
                for line in hist.lines('poste_public_http_request_duration_seconds',
                                       f'method="{m}",route="{r}"')])
        from appliance.looplag import metric_lines   # imports this module
        out.extend(metric_lines(getattr(ctx, 'loop_monitor', None), getattr(ctx, 'gc_monitor', None)))
        row = State.get_or_none(State.key == LAST_SUCCESS)
        if row is not None:
            age = (ctx.clock.now() - datetime.fromisoformat(row.value)).total_seconds()
            metric('poste_public_backup_age_seconds', 'gauge', 'Seconds since the last successful backup.',
                   [f'poste_public_backup_age_seconds {age:.0f}'])
        verified = auditchain.last_result()
        if verified is not None:
            metric('poste_public_audit_chain_ok', 'gauge',
                   'Whether the last verification of the audit log hash chain found it intact (1) or broken (0).',
                   [f'poste_public_audit_chain_ok {1 if verified.get("ok") else 0}'])
        return '\n'.join(out) + '\n'
