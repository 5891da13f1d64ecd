"""Seeing stalls: how late the event loop wakes, and how long garbage collections pause it.

LoopMonitor is one greenlet that asks to sleep `interval` seconds and measures how much later it
actually woke: anything that holds the loop (a long collection, synchronous I/O, a big JSON
document, a query that sleeps in C) shows up as lag, whoever caused it. GcMonitor times every
collection through `gc.callbacks`. Both keep a histogram and their worst value for /metrics; they
allocate nothing per tick beyond a float or two.

tune_gc() is called once the process has loaded what it keeps for its whole life: it freezes
those objects (full collections no longer walk them) and raises the thresholds so that young
collections run less often and full ones far less often (see docs/PERFORMANCE.md).
"""
import gc
import time

import gevent

from appliance.metrics import Histogram

LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
GC_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
# Young collection every 20,000 net allocations of containers (700 by default); a middle one every
# 20 of those, a full one every 20 middle ones (and, since Python 3.8, only when the survivors
# since the last full pass outnumber a quarter of the long-lived objects).
GC_THRESHOLDS = (20000, 20, 20)


def tune_gc(thresholds=GC_THRESHOLDS):
    """After start-up: collect once, freeze what survived, set the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


class LoopMonitor:
    """A greenlet measuring how late it wakes after each `interval`."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.histogram = Histogram(LAG_BUCKETS)
        self.worst = 0.0
        self._greenlet = None

    def start(self):
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)
        return self

    def stop(self):
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _run(self):
        interval, clock, sleep = self.interval, time.perf_counter, gevent.sleep
        while True:
            before = clock()
            sleep(interval)
            self.observe(clock() - before - interval)

    def observe(self, lag):
        lag = lag if lag > 0.0 else 0.0
        self.histogram.observe(lag)
        if lag > self.worst:
            self.worst = lag

    def reset_worst(self):
        """The worst value since the last call (for a bench phase), then start again from zero."""
        worst, self.worst = self.worst, 0.0
        return worst


class GcMonitor:
    """Every collection's pause, by generation, measured with gc.callbacks."""

    def __init__(self):
        self.histograms = {generation: Histogram(GC_BUCKETS) for generation in (0, 1, 2)}
        self.worst = {0: 0.0, 1: 0.0, 2: 0.0}
        self._started = 0.0
        self._installed = False

    def install(self):
        if not self._installed:
            gc.callbacks.append(self._callback)
            self._installed = True
        return self

    def uninstall(self):
        if self._installed:
            gc.callbacks.remove(self._callback)
            self._installed = False

    def _callback(self, phase, info):
        if phase == 'start':
            self._started = time.perf_counter()
        elif self._started:
            self.observe(info['generation'], time.perf_counter() - self._started)
            self._started = 0.0

    def observe(self, generation, seconds):
        self.histograms[generation].observe(seconds)
        if seconds > self.worst[generation]:
            self.worst[generation] = seconds


def metric_lines(loop, collector):
    """/metrics lines for both monitors (either may be None)."""
    out = []
    if loop is not None:
        out += ['# HELP poste_public_event_loop_lag_seconds How late the event loop woke a sleeping '
                f'greenlet (sampled every {loop.interval:g} s).',
                '# TYPE poste_public_event_loop_lag_seconds histogram',
                *loop.histogram.lines('poste_public_event_loop_lag_seconds', ''),
                '# HELP poste_public_event_loop_lag_worst_seconds Worst event-loop lag since start.',
                '# TYPE poste_public_event_loop_lag_worst_seconds gauge',
                f'poste_public_event_loop_lag_worst_seconds {loop.worst:.6f}']
    if collector is not None:
        out += ['# HELP poste_public_gc_pause_seconds Garbage collection pauses by generation.',
                '# TYPE poste_public_gc_pause_seconds histogram']
        for generation, histogram in collector.histograms.items():
            out += histogram.lines('poste_public_gc_pause_seconds', f'generation="{generation}"')
        out += ['# HELP poste_public_gc_pause_worst_seconds Longest garbage collection pause since start.',
                '# TYPE poste_public_gc_pause_worst_seconds gauge']
        out += [f'poste_public_gc_pause_worst_seconds{{generation="{g}"}} {w:.6f}'
                for g, w in collector.worst.items()]
    return out
