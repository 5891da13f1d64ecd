"""The desk: every change of state of a poste, a session or a visitor, in one place.

REST routes, the WebSocket endpoints and the scheduler all call one `Desk`. Each change is one write
transaction with its audit entry; what others must hear is published as domain facts
(appliance/events.py) once it has committed. Only the WebSocket endpoints turn facts into wire
messages.

`Desk` is assembled from one class per concern, each in its own module of this package:
  postes.py     the public computers: create, change, delete, status, kiosk tokens
  sessions.py   access codes, starting, adding time, warnings, ending and expiry
  presence.py   kiosk heartbeats, online and offline, the periodic flush
  visitors.py   visitors and their photos
  duplicates.py visitors registered twice: finding them, merging two records
  library.py    the library's name and kiosk home page (admin settings)
  privacy.py    retention, erasure and access, requisitions, the charter, minors
  sites.py      the branches of a network: sites, and who may act on which
  control.py    live control: messages, commands and Wake-on-LAN, pause, requests for more time
  policy.py     opening hours and closing, visitor categories and quotas, guest passes
  moves.py      what they share: reading rows again, ending a session, "poste/session changed"
with room.py (every poste and its running session, kept in memory) and stats.py (usage
statistics, aggregated SQL without personal data).
"""
from appliance import events
from appliance.desk import stats
from appliance.desk.duplicates import Duplicates
from appliance.desk.library import Library
from appliance.desk.moves import Moves
from appliance.desk.policy import Policy
from appliance.desk.postes import Postes
from appliance.desk.presence import Presence
from appliance.desk.privacy import Privacy
from appliance.desk.sessions import Sessions
from appliance.desk.sites import Sites
from appliance.desk.visitors import Visitors
from appliance.desk.control import Control


class Desk(Postes, Sessions, Presence, Visitors, Duplicates, Library, Sites, Control, Policy, Privacy, Moves):
    """The one facade. Its parts share `config`, `clock` and `room` (set up by Moves)."""

    def statistics(self, date_min, date_max, site=None):
        result = stats.compute(date_min, date_max, self.now(), site=site)
        result['par_categorie'] = self.category_statistics(date_min, date_max, site=site)
        return result

    def follow(self):
        """Keep the room right when other processes on the same database change postes and
        sessions (their facts arrive through the relay), and read it all again after a gap."""
        events.subscribe(lambda kind, fact: self.room.changed(fact['poste_id']), events.POSTE_CHANGED)
        events.subscribe(self._session_fact, events.SESSION_CHANGED)
        events.subscribe(lambda kind, fact: self.room.reset(), events.RESYNC)

    def _session_fact(self, kind, fact):
        if fact['session']['poste'] is not None:
            self.room.changed(fact['session']['poste'])
