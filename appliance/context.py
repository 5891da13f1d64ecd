"""What every part of the running appliance shares: configuration, clock, the desk, authentication."""
from appliance.auth import Authenticator
from appliance.clock import MonotonicClock
from appliance.metrics import Metrics
from appliance.desk import Desk


class Context:
    def __init__(self, config, clock=None):
        self.config = config
        self.clock = clock or MonotonicClock()
        self.desk = Desk(config, self.clock)
        self.authenticator = Authenticator(config, self.clock)
        self.metrics = Metrics()
        self.scheduler = None   # the embedded Huey consumer, once `serve` starts it
        self.hub = None         # the WebSocket endpoints, once `serve` starts them
        self.timekeeper = None  # warnings and expiries on the second, once `serve` starts it
        self.relay = None       # facts to and from other processes (PostgreSQL only)
        self.certificate_expires = None   # the HTTPS certificate's end (naive UTC), when TLS is on
        self.loop_monitor = None   # the event-loop lag monitor (looplag.py), once `serve` starts it
        self.gc_monitor = None     # garbage collection pauses (looplag.py), once `serve` starts it
