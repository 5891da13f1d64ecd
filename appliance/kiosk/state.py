"""The kiosk's session state machine: pure logic, the clock passed in, no I/O.

It speaks the kiosk WebSocket protocol (docs/kiosk.md) in the words of appliance.protocol, and
imports nothing else but the standard library: the kiosk installs without the server. The web
kiosk's static/kiosk/state.js is the same machine in JavaScript; tests/kiosk_scenarios.json drives
both, so change them together.

Inputs: what the server says (handle_message), what the link does (connected, disconnected), what the
visitor does (submit_code, end_session, accept_charter, decline_charter), and time passing (tick, called a few times a second).
Each input returns the effects it asks for, as tuples for the caller to carry out:
  (SEND, message)          send a JSON message to the server
  (SAVE, code, deadline)   keep the session on disk (deadline: wall-clock epoch seconds)
  (FORGET,)                drop the kept session
  (END_COMMAND,)           run the end-of-session command (after FORGET: it may log the desktop out)
  (COMMAND, commande)      carry out a command of the desk: verrouiller, deconnecter, redemarrer, eteindre
Live control (docs/kiosk.md): a paused session (`paused`) shows the lock screen with its time frozen
and takes the visitor's own code to resume; messages of the desk (`message`); requests for more time
(request_time, `request_pending`); inactivity (activity() on input, INACTIVITY_TIMEOUT from the server).
The screen reads the rest from properties: locked, remaining(), feedback, link_text, notice,
library_name, home_page, charter (the charter to accept before the session starts, or None)...

The server's clock is the authority: every figure it sends replaces ours. Between figures, and while
disconnected, the countdown runs on the monotonic clock and locks at zero by itself.
"""
import math

from appliance.protocol import CODE_LENGTH, MAINTENANCE, Action, Close, Reason, Type, normalise_code
from appliance.protocol import INACTIVITY_WARNING, KIOSK_COMMANDS, LOCK, LOG_OFF, RESTART, SHUT_DOWN, SUSPENDUE

SEND, SAVE, FORGET, END_COMMAND = 'send', 'save', 'forget', 'end_command'
COMMAND = 'command'

HEARTBEAT_SECONDS = 5
ANSWER_TIMEOUT = 10     # no answer to a code after this long: say so and let the visitor retry
MESSAGE_SECONDS = 30    # feedback on the lock screen goes back to the plain invitation after this
NOTICE_SECONDS = 30     # a warning shown during the session hides itself after this
CHARTER_SECONDS = 120   # a charter left unanswered goes: the next visitor must not accept it for them

PROMPT = "Entrez le code remis à l'accueil"
CODE_UNKNOWN = 'Code inconnu ou expiré'
TOO_MANY_TRIES = "Trop d'essais : patientez une minute"
BAD_LENGTH = 'Le code comporte 6 caractères.'
NO_ANSWER = 'Le serveur ne répond pas : réessayez dans un instant.'
IN_MAINTENANCE = 'Ce poste est en maintenance.'
CONNECTING = 'Connexion au serveur…'
UNREACHABLE = 'Serveur injoignable : nouvelle tentative…'
POSTE_UNKNOWN = "Ce poste n'est pas enregistré sur le serveur : prévenez l'accueil."
TOKEN_REFUSED = "Ce poste n'est pas autorisé par le serveur : prévenez l'accueil."
CHARTER_DECLINED = "Charte refusée : la session n'est pas ouverte."
CHARTER_TIMEOUT = 'Charte sans réponse : entrez de nouveau votre code.'
ENDED = {
    Reason.EXPIRATION: 'Votre session est terminée. Merci de votre visite !',
    Reason.BY_STAFF: "Votre session a été fermée par l'accueil.",
    Reason.BY_VISITOR: 'Session terminée. À bientôt !',
}
ENDED_OTHER = 'Session terminée.'
ENDED[Reason.PAUSE_EXPIRED] = 'Votre pause a trop duré : la session est terminée.'
ENDED[Reason.INACTIVITY] = 'Session terminée faute d’activité.'
DESK_MESSAGE_SECONDS = 60   # a message of the desk stays this long (or until closed)
PAUSED = 'Session en pause : entrez votre code pour reprendre'
REQUEST_SENT = 'Demande transmise à l’accueil.'
INACTIVITY_NOTICE = 'Êtes-vous toujours là ? Sans action de votre part, la session se termine dans 1 minute.'
COMMAND_TEXTS = {
    LOCK: 'Poste verrouillé par l’accueil.',
    LOG_OFF: 'Déconnexion demandée par l’accueil.',
    RESTART: 'Redémarrage du poste demandé par l’accueil…',
    SHUT_DOWN: 'Arrêt du poste demandé par l’accueil…',
}


def refused_text(motif):
    return 'Demande refusée : {}'.format(motif) if motif else 'Demande refusée.'
# The library's closing (opening hours): the notice before, and the end.
ENDED[Reason.LIBRARY_CLOSING] = 'La bibliothèque ferme : votre session est terminée. À bientôt !'
CLOSING_SOON = 'La bibliothèque ferme bientôt.'


def format_remaining(seconds):
    """'MM:SS' under an hour, 'H:MM:SS' from an hour up."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return '{}:{:02d}:{:02d}'.format(hours, minutes, secs)
    return '{:02d}:{:02d}'.format(minutes, secs)


def minutes_text(seconds):
    """'5 minutes', '1 minute', 'moins d'une minute' (to the nearest minute, halves up: not
    Python's round(), which takes 2.5 to 2 and would disagree with the web kiosk's Math.round)."""
    minutes = math.floor(seconds / 60 + 0.5)
    if minutes < 1:
        return "moins d'une minute"
    return '{} minute{}'.format(minutes, 's' if minutes > 1 else '')


class KioskState:
    def __init__(self, clock):
        """`clock` has monotonic() (for the countdown) and time() (wall clock, for the disk)."""
        self.clock = clock
        self.link = 'connecting'        # 'connecting', 'up' or 'down'
        self.close_code = None          # why the server last refused us (4403, 4404)
        self.statut = None              # the poste's statut, from the last sync
        self.code = None                # the session's code; None while locked
        self.notice = None              # a warning shown prominently during the session
        self.library_name = None        # the library's name and home page, as the server last
        self.home_page = None           # said (None: not said; the configuration's apply)
        self._deadline = None           # monotonic time the session ends at
        self._pending = None            # (code, sent at) while waiting for an answer
        self._resume_code = None        # a code kept on disk, re-presented until the server answers
        self._ended_code = None         # a session the visitor ended: never resumed
        self._feedback = None           # (text, is_error, until)
        self._notice_until = 0.0
        self._next_heartbeat = 0.0
        self.charter = None             # {'version', 'texte'} to accept before the session starts
        self._charter_code = None       # the code it is for
        self._charter_until = 0.0
        self.paused = False             # a paused session: the lock screen, its time frozen
        self._paused_left = 0
        self.message = None             # the desk's last message, shown on either screen
        self._message_until = 0.0
        self.request_pending = False    # a request for more time awaits its answer
        self.inactivity = 0             # INACTIVITY_TIMEOUT, from the server (0: off)
        self._last_input = 0.0          # monotonic time of the visitor's last input
        self._idle_warned = False
        self._ended_raison = None       # why the visitor's kiosk ended the session (told when back)

    # ---- what the screen shows

    @property
    def locked(self):
        return self.code is None

    def remaining(self):
        """Whole seconds left, rounded up; 0 when locked or at the end."""
        if self.paused:
            return self._paused_left
        if self._deadline is None:
            return 0
        return max(0, math.ceil(self._deadline - self.clock.monotonic() - 1e-6))

    @property
    def waiting_answer(self):
        return self._pending is not None

    @property
    def can_enter_code(self):
        return ((self.locked or self.paused) and self.link == 'up' and not self._pending
                and self.statut != MAINTENANCE and self.charter is None)

    @property
    def feedback(self):
        """(text, is_error) for the line under the code entry."""
        if self.statut == MAINTENANCE and self.locked:
            return IN_MAINTENANCE, False
        if self._feedback:
            return self._feedback[0], self._feedback[1]
        if self.paused:
            return PAUSED, False
        return PROMPT, False

    @property
    def link_text(self):
        """What to say about the server link, or None when all is well."""
        if self.link == 'up':
            return None
        if self.link == 'connecting':
            return CONNECTING
        if self.close_code == Close.NOT_FOUND:
            return POSTE_UNKNOWN
        if self.close_code == Close.FORBIDDEN:
            return TOKEN_REFUSED
        return UNREACHABLE

    # ---- inputs

    def resume(self, code, deadline):
        """At start-up, a session kept on disk (`deadline`: wall-clock epoch seconds).

        The countdown goes on from what was kept, and the code is re-presented to the server on the
        next connection (the same code from the same poste answers with the time left).
        """
        left = deadline - self.clock.time()
        if left <= 0:
            return self._lock(ENDED[Reason.EXPIRATION])
        self.code = code
        self._deadline = self.clock.monotonic() + left
        self._resume_code = code
        return []

    def connected(self):
        self.link = 'up'
        self.close_code = None
        self._next_heartbeat = self.clock.monotonic()   # the first heartbeat goes at the next tick
        if self._resume_code:
            return [(SEND, {'type': Type.VALIDATE_CODE, 'code': self._resume_code})]
        return []

    def disconnected(self, close_code=None):
        self.link = 'down'
        self.close_code = close_code
        self._pending = None    # its answer will not come on a new connection
        self._drop_charter()    # the code is typed again once the link is back
        return []

    def submit_code(self, text):
        if not self.can_enter_code:
            return []
        code = normalise_code(text)
        if len(code) != CODE_LENGTH:
            self._say(BAD_LENGTH, error=True)
            return []
        self._pending = (code, self.clock.monotonic())
        self._feedback = None
        if self.paused:   # the visitor is back: their own code resumes the session
            return [(SEND, {'type': Type.RESUME, 'code': code})]
        return [(SEND, {'type': Type.VALIDATE_CODE, 'code': code})]

    def end_session(self):
        """The visitor leaves: lock now; the server is told now, or when it is back."""
        if self.locked:
            return []
        return self._end_here(Reason.BY_VISITOR)

    def _end_here(self, raison):
        self._ended_code = self.code
        self._ended_raison = raison
        effects = [(SEND, self._end_message())] if self.link == 'up' else []
        return effects + self._lock(ENDED[raison])

    def _end_message(self):
        if self._ended_raison == Reason.INACTIVITY:
            return {'type': Type.END_SESSION, 'raison': Reason.INACTIVITY}
        return {'type': Type.END_SESSION}

    def pause(self):
        """The visitor steps away: the server pauses the session and answers `paused`."""
        if self.locked or self.paused or self.link != 'up':
            return []
        return [(SEND, {'type': Type.PAUSE})]

    def request_time(self, seconds):
        """The visitor asks for `seconds` more: one request at a time."""
        if self.locked or self.paused or self.link != 'up' or self.request_pending:
            return []
        self.request_pending = True
        return [(SEND, {'type': Type.REQUEST_TIME, 'seconds': seconds})]

    def activity(self, at=None):
        """The visitor's input (keyboard, mouse, touch), now or at monotonic time `at`."""
        at = self.clock.monotonic() if at is None else at
        if at > self._last_input:
            self._last_input = at
            if self._idle_warned:
                self._idle_warned = False
                if self.notice == INACTIVITY_NOTICE:
                    self.notice = None

    def accept_charter(self):
        """The visitor accepts the charter shown: the code goes again, with the version accepted."""
        if self.charter is None or self.link != 'up':
            return []
        code, version = self._charter_code, self.charter['version']
        self._drop_charter()
        self._pending = (code, self.clock.monotonic())
        return [(SEND, {'type': Type.ACCEPT_CHARTER, 'code': code, 'version': version})]

    def decline_charter(self):
        if self.charter is None:
            return []
        self._drop_charter()
        self._say(CHARTER_DECLINED, error=False)
        return []

    def dismiss_notice(self):
        self.notice = None
        self.message = None
        self.activity()

    def tick(self):
        now = self.clock.monotonic()
        effects = []
        if not self.locked and not self.paused and self.remaining() == 0:
            effects += self._lock(ENDED[Reason.EXPIRATION])
        if not self.locked and not self.paused and self.inactivity > 0:
            idle = now - self._last_input
            if idle >= self.inactivity:
                effects += self._end_here(Reason.INACTIVITY)
            elif idle >= self.inactivity - min(INACTIVITY_WARNING, self.inactivity / 2) and not self._idle_warned:
                self._idle_warned = True
                self._notify(INACTIVITY_NOTICE)
        if self._pending and now - self._pending[1] >= ANSWER_TIMEOUT:
            self._pending = None
            self._say(NO_ANSWER, error=True)
        if self._feedback and now >= self._feedback[2]:
            self._feedback = None
        if self.notice and now >= self._notice_until:
            self.notice = None
        if self.message and now >= self._message_until:
            self.message = None
        if self.charter is not None and now >= self._charter_until:
            self._drop_charter()
            self._say(CHARTER_TIMEOUT, error=False)
        if self.link == 'up' and now >= self._next_heartbeat:
            self._next_heartbeat = now + HEARTBEAT_SECONDS
            effects.append((SEND, self._heartbeat()))
        return effects

    def handle_message(self, msg):
        """A message from the server (a dict); anything else, and unknown actions, are ignored.
        `error` needs nothing here: the caller logs it."""
        action = msg.get('action') if isinstance(msg, dict) else None
        handler = {
            Action.SYNC: self._on_sync,
            Action.SESSION_STARTED: self._on_session_started,
            Action.CODE_INVALID: self._on_code_invalid,
            Action.ADD_TIME: self._on_add_time,
            Action.WARNING: self._on_warning,
            Action.CLOSE_SESSION: self._on_close_session,
            Action.CHARTER_REQUIRED: self._on_charter_required,
            Action.PAUSED: self._on_paused,
            Action.RESUMED: self._on_resumed,
            Action.MESSAGE: self._on_message,
            Action.COMMAND: self._on_command,
            Action.REQUEST_PENDING: self._on_request_pending,
            Action.REQUEST_REFUSED: self._on_request_refused,
            Action.ERROR: self._on_error,
            Action.CLOSING: self._on_closing,
        }.get(action) if isinstance(action, str) else None
        return handler(msg) if handler else []

    # ---- server messages

    def _on_sync(self, msg):
        self.statut = msg.get('statut')
        self._take_inactivity(msg)
        if _text(msg.get('bibliotheque')):
            self.library_name = msg['bibliotheque']
        if isinstance(msg.get('page_accueil'), str):
            self.home_page = msg['page_accueil']     # '' when the library has none
        session = _mapping(msg.get('session'))
        left = _seconds(msg.get('temps_restant'))
        self._resume_code = None
        if session and left:
            code = _text(session.get('code_acces')) or self.code
            if code and code == self._ended_code:
                # The visitor ended it while we could not say so: say it now, stay locked.
                return [(SEND, self._end_message())]
            if session.get('statut') == SUSPENDUE:
                return self._pause(code, left)
            return self._enter(code, left)
        if not self.locked:
            return self._lock(ENDED_OTHER)
        return []

    def _on_session_started(self, msg):
        left = _seconds(msg.get('temps_restant'))
        self._take_inactivity(msg)
        session = _mapping(msg.get('session')) or {}
        code = _text(session.get('code_acces')) or (self._pending[0] if self._pending else self._resume_code)
        self._pending = None
        self._resume_code = None
        if not code or not left:
            return []
        return self._enter(code, left)

    def _on_charter_required(self, msg):
        """The code is valid, but the visitor must first accept the charter (only an answer to
        the code just typed is shown)."""
        charter = _mapping(msg.get('charte'))
        version = charter.get('version') if charter else None
        if (not self._pending or not self.locked or isinstance(version, bool)
                or not isinstance(version, (int, float)) or not float(version).is_integer()):
            return []
        version = int(version)
        self._charter_code = self._pending[0]
        self._pending = None
        self.charter = {'version': version, 'texte': _text(charter.get('texte')) or ''}
        self._charter_until = self.clock.monotonic() + CHARTER_SECONDS
        return []

    def _on_code_invalid(self, msg):
        if self._pending:
            self._pending = None
            self._say(_code_invalid_text(msg), error=True)
        elif self._resume_code:
            # The kept session is over on the server.
            self._resume_code = None
            if not self.locked:
                return self._lock(ENDED_OTHER)
        # Otherwise it answers a code re-presented after a `sync` already said all.
        return []

    def _on_add_time(self, msg):
        left = _seconds(msg.get('temps_restant'))
        if self.locked or not left:
            return []
        added = _seconds(msg.get('seconds'))
        self.request_pending = False
        if added:
            self._notify('Temps ajouté : {}.'.format(minutes_text(added)))
        return self._enter(self.code, left)

    def _on_warning(self, msg):
        left = _seconds(msg.get('temps_restant'))
        if self.locked or left is None:
            return []
        self._notify(_text(msg.get('message')) or 'Il vous reste {}.'.format(minutes_text(left)))
        return self._enter(self.code, left) if left else []

    def _on_close_session(self, msg):
        self._resume_code = None
        if self.locked:
            return []
        return self._lock(ENDED.get(_text(msg.get('raison')), ENDED_OTHER))

    def _on_paused(self, msg):
        left = _seconds(msg.get('temps_restant'))
        code = self.code or (self._pending[0] if self._pending else self._resume_code)
        self._pending = None
        self._resume_code = None
        if not code:
            return []
        return self._pause(code, left if left is not None else self.remaining())

    def _on_resumed(self, msg):
        left = _seconds(msg.get('temps_restant'))
        self._pending = None
        if self.locked or not left:
            return []
        return self._enter(self.code, left)

    def _on_message(self, msg):
        text = _text(msg.get('message'))
        if text:
            self.message = text
            self._message_until = self.clock.monotonic() + DESK_MESSAGE_SECONDS
        return []

    def _on_command(self, msg):
        commande = msg.get('commande')
        if commande not in KIOSK_COMMANDS:
            return []
        if commande == LOCK and (self.locked or self.paused):
            self._say(COMMAND_TEXTS[LOCK], error=False)
            return [(COMMAND, commande)]
        # The server ended the session first; should it still run here, it ends now.
        effects = self._lock(COMMAND_TEXTS[commande]) if not self.locked else []
        self._say(COMMAND_TEXTS[commande], error=False)
        return effects + [(COMMAND, commande)]

    def _on_request_pending(self, msg):
        if not self.locked:
            self._notify(REQUEST_SENT)
        return []

    def _on_request_refused(self, msg):
        self.request_pending = False
        if not self.locked:
            self._notify(refused_text(_text(msg.get('motif'))))
        return []

    def _on_error(self, msg):
        if msg.get('type') == Type.REQUEST_TIME and self.request_pending:
            self.request_pending = False
            if not self.locked:
                self._notify(_text(msg.get('detail')) or refused_text(None))
        return []

    def _on_closing(self, msg):
        """The library closes soon: said on the lock screen, or shown during the session until it
        ends (the visitor may dismiss it); the countdown is cut to the server's figure, never
        lengthened: it never shows more time than the library has left."""
        left = _seconds(msg.get('temps_restant'))
        text = _text(msg.get('message')) or CLOSING_SOON
        if self.locked:
            self._say(text, error=False)
            return []
        self.notice = text
        self._notice_until = float('inf')
        if left and left < self.remaining():
            return self._enter(self.code, left)
        return []

    # ---- helpers

    def _take_inactivity(self, msg):
        value = _seconds(msg.get('inactivite'))
        if value is not None:
            self.inactivity = value

    def _pause(self, code, left):
        """The session of `code` is paused with `left` seconds: the lock screen, time frozen."""
        self.code = code
        self.paused = True
        self._paused_left = left
        self._deadline = None
        self.notice = None
        self.request_pending = False
        self._feedback = None
        return []

    def _enter(self, code, left):
        """Start or go on with a session that has `left` seconds, by the server's figure."""
        if not code:
            return []
        self._drop_charter()
        if self.locked or self.paused:
            self._feedback = None
            self._last_input = self.clock.monotonic()   # inactivity counts from the start
            self._idle_warned = False
        self.paused = False
        if code != self._ended_code:
            self._ended_code = None
        self.code = code
        self._deadline = self.clock.monotonic() + left
        return [(SAVE, code, self.clock.time() + left)]

    def _drop_charter(self):
        self.charter = None
        self._charter_code = None

    def _lock(self, text):
        self.code = None
        self._deadline = None
        self.notice = None
        self.paused = False
        self.request_pending = False
        self._say(text, error=False)
        return [(FORGET,), (END_COMMAND,)]

    def _say(self, text, error):
        self._feedback = (text, error, self.clock.monotonic() + MESSAGE_SECONDS)

    def _notify(self, text):
        self.notice = text
        self._notice_until = self.clock.monotonic() + NOTICE_SECONDS

    def _heartbeat(self):
        if self.locked:
            return {'type': Type.HEARTBEAT}
        return {'type': Type.HEARTBEAT, 'temps_restant': self.remaining(), 'code': self.code}


def _seconds(value):
    """A non-negative whole number of seconds from the server, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return max(0, int(math.ceil(value)))


def _mapping(value):
    """A JSON object with at least one field, or None."""
    return value if isinstance(value, dict) and value else None


def _text(value):
    """A non-empty string from the server, or None."""
    return value if isinstance(value, str) and value else None


def _code_invalid_text(msg):
    # The server's own detail is French and precise ("Ce code est réservé à un autre poste.").
    if msg.get('retry_after'):
        return TOO_MANY_TRIES
    detail = msg.get('detail')
    return detail.strip() if isinstance(detail, str) and detail.strip() else CODE_UNKNOWN
