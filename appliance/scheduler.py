"""Huey, embedded in the serving process: greenlet workers, SQLite storage under
DATA_DIR, periodic checks every 10 seconds, and our own signal handling.

Every check runs `tick`: the expiry sweep (a safety net behind the timekeeper), stale codes,
kiosk presence, and the daily jobs. Daily jobs remember when they last ran (State table), so a run
missed while the box was off happens at the next start instead of being lost.
"""
import logging
import os
import time
from datetime import datetime, timedelta, timezone

import gevent
from huey import SqliteHuey, crontab
from huey.consumer import Consumer
from huey.consumer import Scheduler as HueyScheduler

from appliance import audit, auditchain, db
from appliance.backup import service as backup_service
from appliance.models import State
from appliance.tls import certificate_state

log = logging.getLogger(__name__)

TICK_SECONDS = 10
STALE_AFTER = 3 * TICK_SECONDS   # no tick for this long: the scheduler is reported down
DAILY_JOBS_LOCK = 0x706f737465   # any number, the same in every process ("poste")


class TenSecondScheduler(HueyScheduler):
    periodic_task_seconds = TICK_SECONDS


class EmbeddedConsumer(Consumer):
    scheduler_class = TenSecondScheduler

    def _set_signal_handlers(self):
        # `serve` owns SIGTERM/SIGINT and stops us itself; Huey's handlers would only record them.
        pass


def local_slot(now_utc, hour):
    """The latest local `hour`:00 at or before `now_utc` (naive UTC in, naive UTC out)."""
    local = now_utc.replace(tzinfo=timezone.utc).astimezone()
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot.astimezone(timezone.utc).replace(tzinfo=None)


def daily_job_due(now, hour, last_run):
    """True when the slot of `hour` has passed since `last_run` (None: never ran)."""
    return last_run is not None and last_run < local_slot(now, hour)


def verify_and_report(ctx):
    """Verify the audit chain, keep the result, and write a broken chain in the log."""
    result = auditchain.verify()
    now = ctx.clock.now()
    auditchain.store_result(result, now)
    if not result['ok']:
        audit.record('verification_journal', now=now, operateur='système',
                     details=f'Journal d’audit altéré : la chaîne d’empreintes est rompue à l’entrée '
                             f'n° {result["premiere_alteree"]}.', metadata=result)
    return result


def read_state(key):
    row = State.get_or_none(State.key == key)
    return row.value if row else None


def write_state(key, value):
    with db.writing():
        State.insert(key=key, value=value).on_conflict(
            conflict_target=[State.key], update={State.value: value}).execute()


def claim_daily_job(name, hour, now):
    """True when this process is to run the daily job `name` now: its slot has passed since it
    last ran, and no other process claimed it first. The claim is written before the job runs,
    under a lock that several processes on one PostgreSQL database take in turn, so a night's run
    happens once for the whole network (a job that fails is not retried before the next slot)."""
    key = f'daily:{name}'
    with db.writing():
        if not db.is_sqlite():
            db.database.execute_sql('SELECT pg_advisory_xact_lock(%s)', (DAILY_JOBS_LOCK,))
        raw = read_state(key)
        last = datetime.fromisoformat(raw) if raw else None
        if last is not None and not daily_job_due(now, hour, last):
            return False
        write_state(key, now.isoformat())
    return last is not None   # first start: the next slot is the first run


class Scheduler:
    def __init__(self, ctx, workers=2):
        self.ctx = ctx
        store = os.path.join(ctx.config.data_dir, 'scheduler.db')
        db.create_private_file(store)
        self.huey = SqliteHuey('poste-public', filename=store)
        self.daily_jobs = {'purge': (3, self.purge)}   # name -> (local hour, function)
        self.add_daily_job('backup', 2, self.backup)
        if ctx.certificate_expires is not None:
            self.add_daily_job('certificate', 4, self.check_certificate)
        self.add_daily_job('verify-log', 4, self.verify_log)
        self.last_tick = None
        self.outage = False   # the database was out of reach at the last tick (said once)
        self._last_flush = time.monotonic()
        self.huey.periodic_task(crontab(), name='tick')(self.tick)
        self.consumer = EmbeddedConsumer(self.huey, workers=workers, worker_type='greenlet',
                                         periodic=True, check_worker_health=False)

    def add_daily_job(self, name, hour, function):
        self.daily_jobs[name] = (hour, function)

    def start(self):
        self.consumer.start()

    def stop(self):
        self.consumer.stop(graceful=False)

    def is_alive(self):
        env = self.consumer.environment
        running = env.is_alive(self.consumer.scheduler) and all(
            env.is_alive(p) for _, p in self.consumer.worker_threads)
        fresh = self.last_tick is None or time.monotonic() - self.last_tick < STALE_AFTER
        return running and fresh

    # -- the periodic work ------------------------------------------------------------------

    def tick(self):
        self.last_tick = time.monotonic()
        try:
            self._tick()
            self.outage = False
        except db.UNAVAILABLE as exc:   # everything here is tried again at the next tick
            if not self.outage:
                log.warning('scheduler: database unavailable (%s); trying at every tick', db.first_line(exc))
            self.outage = True

    def _tick(self):
        desk = self.ctx.desk
        with db.database.connection_context():
            desk.expire_due()
            for poste_id in desk.silent_postes():
                desk.kiosk_disconnected(poste_id)
                gevent.sleep(0)   # a power cut in the whole room must not stall the others
            # Stored a few times per timeout: other processes read a kiosk's presence from there.
            if time.monotonic() - self._last_flush >= min(60, self.ctx.config.heartbeat_timeout / 3):
                desk.flush_presence()
                self._last_flush = time.monotonic()
            self.run_daily_jobs()

    def run_daily_jobs(self):
        for name, (hour, function) in self.daily_jobs.items():
            if not claim_daily_job(name, hour, self.ctx.clock.now()):
                continue
            log.info('daily job %s starting', name)
            try:
                function()
            except Exception:
                log.exception('daily job %s failed', name)

    def purge(self):
        """Delete audit entries older than LOG_RETENTION_DAYS, sessions and visitors past their
        retention (docs/rgpd.md); one `purge` entry says what went. Archives older than
        LOG_RETENTION_DAYS go too: they hold the same entries."""
        config, now = self.ctx.config, self.ctx.clock.now()
        done = self.ctx.desk.apply_retention(record=False)   # sessions and visitors (docs/rgpd.md)
        log.info('purge: %d session(s) deleted, %d visitor(s) anonymised', done['sessions_supprimees'],
                 done['visiteurs_anonymises'])
        count = audit.purge(now - timedelta(days=config.log_retention_days), now=now,
                            retention=done)
        log.info('purge: %d audit entries older than %d days deleted', count,
                 config.log_retention_days)
        for folder, deleted in backup_service.prune_everywhere(config, now):
            if deleted:
                log.info('purge: %d backup archive(s) removed from %s', len(deleted), folder)
        return count

    def verify_log(self):
        """Check the audit log's hash chain (appliance/auditchain.py); a broken chain shows in
        /api/health/, /metrics and the dashboard, and is itself written in the log."""
        def run():   # in a greenlet of its own: a million entries take seconds, the tick keeps its beat
            with db.database.connection_context():
                result = verify_and_report(self.ctx)
            if not result['ok']:
                log.error('audit log: the hash chain is broken at entry %s', result['premiere_alteree'])
        gevent.spawn(run)

    def check_certificate(self):
        """With HTTPS on: a warning in the log from WARN_DAYS before the certificate ends
        (/api/health/ and the dashboard say it too)."""
        expires = self.ctx.certificate_expires
        if expires is None:
            return
        state = certificate_state(expires, self.ctx.clock.now())
        if state == 'expires_soon':
            log.warning('the HTTPS certificate expires on %s UTC: renew it with "poste-public tls init" '
                        'and restart', expires.isoformat(' ', 'minutes'))
        elif state == 'expired':
            log.error('the HTTPS certificate expired on %s UTC: browsers refuse the box; renew it with '
                      '"poste-public tls init" and restart', expires.isoformat(' ', 'minutes'))

    def backup(self):
        """The nightly backup, in a greenlet of its own: it may take minutes, and the tick must
        keep its beat (a stuck tick reads as a dead scheduler in /api/health/)."""
        gevent.spawn(backup_service.run_scheduled, self.ctx)
