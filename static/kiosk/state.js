/* The web kiosk's session state machine: pure logic, the clock passed in, no DOM, no I/O.
 *
 * The same machine as the Tk kiosk's (appliance/kiosk/state.py), input for input and effect for
 * effect: the scenario table tests/kiosk_scenarios.json drives both, so change them together.
 *
 * Inputs: what the server says (handleMessage), what the link does (connected, disconnected), what
 * the visitor does (submitCode, endSession, acceptCharter, declineCharter), and time passing (tick, called a few times a second).
 * Each input returns the effects it asks for, as arrays for main.js to carry out:
 *   [SEND, message]          send a JSON message to the server
 *   [SAVE, code, deadline]   keep the session in localStorage (deadline: wall-clock epoch ms)
 *   [FORGET]                 drop the kept session
 *   [END_COMMAND]            end-of-session clean-up (the page empties its frame)
 *   [COMMAND, commande]      a command of the desk (the page says it: a page cannot restart a PC)
 * Live control (docs/kiosk.md): a paused session (`paused`), the desk's messages (`message`),
 * requests for more time (requestTime, `requestPending`), inactivity (activity() on input).
 * The page reads the rest from properties: locked, remaining(), feedback, linkText, notice,
 * charter (the charter to accept before the session starts, or null)...
 *
 * The server's clock is the authority: every figure it sends replaces ours. Between figures, and
 * while disconnected, the countdown runs on the monotonic clock and locks at zero by itself.
 * Times are milliseconds: clock.monotonic() (performance.now()) and clock.time() (Date.now()).
 */
import {Action, Close, CODE_LENGTH, MAINTENANCE, Reason, Type, normaliseCode} from './protocol.js';
import {INACTIVITY_WARNING, KIOSK_COMMANDS, LOCK, SUSPENDUE} from './protocol.js';
import * as T from './texts.js';

export const SEND = 'send';
export const SAVE = 'save';
export const FORGET = 'forget';
export const END_COMMAND = 'end_command';
export const COMMAND = 'command';
const DESK_MESSAGE_MS = 60_000;     // a message of the desk stays this long (or until closed)

const HEARTBEAT_MS = 5000;
const ANSWER_TIMEOUT_MS = 10_000;   // no answer to a code after this long: say so, let them retry
const MESSAGE_MS = 30_000;          // feedback on the lock screen goes back to the invitation
const NOTICE_MS = 30_000;           // a warning shown during the session hides itself after this
const CHARTER_MS = 120_000;         // a charter left unanswered goes: the next visitor must not accept it

/** 'MM:SS' under an hour, 'H:MM:SS' from an hour up. */
export function formatRemaining(seconds) {
  const total = Math.max(0, Math.trunc(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return hours ? `${hours}:${pad(minutes)}:${pad(total % 60)}` : `${pad(minutes)}:${pad(total % 60)}`;
}

export class KioskState {
  #deadline = null;       // monotonic time the session ends at
  #pending = null;        // {code, at} while waiting for an answer
  #resumeCode = null;     // a kept code, re-presented until the server answers
  #endedCode = null;      // a session the visitor ended: never resumed
  #feedback = null;       // {text, error, until}
  #noticeUntil = 0;
  #nextHeartbeat = 0;
  #charterCode = null;    // the code the charter shown is for
  #charterUntil = 0;
  #pausedLeft = 0;
  #messageUntil = 0;
  #lastInput = 0;
  #idleWarned = false;
  #endedRaison = null;

  /** `clock` has monotonic() (for the countdown) and time() (wall clock, for localStorage). */
  constructor(clock) {
    this.clock = clock;
    this.link = 'connecting';   // 'connecting', 'up' or 'down'
    this.closeCode = null;      // why the server last refused us (4403, 4404)
    this.statut = null;         // the poste's statut, from the last sync
    this.code = null;           // the session's code; null while locked
    this.notice = null;         // a warning shown prominently during the session
    this.libraryName = null;    // the library's name and home page, as the server last said
    this.homePage = null;       // (null: not said; the page's own settings apply)
    this.charter = null;        // {version, texte} to accept before the session starts
    this.paused = false;        // a paused session: the lock screen, its time frozen
    this.message = null;        // the desk's last message, shown on either screen
    this.requestPending = false;  // a request for more time awaits its answer
    this.inactivity = 0;        // INACTIVITY_TIMEOUT, from the server (0: off)
  }

  // ---- what the screen shows

  get locked() {
    return this.code === null;
  }

  /** Whole seconds left, rounded up; 0 when locked or at the end. */
  remaining() {
    if (this.paused) return this.#pausedLeft;
    if (this.#deadline === null) return 0;
    return Math.max(0, Math.ceil((this.#deadline - this.clock.monotonic()) / 1000 - 1e-6));
  }

  get waitingAnswer() {
    return this.#pending !== null;
  }

  get canEnterCode() {
    return (this.locked || this.paused) && this.link === 'up' && !this.#pending && this.statut !== MAINTENANCE &&
           this.charter === null;
  }

  /** {text, error} for the line under the code entry. */
  get feedback() {
    if (this.statut === MAINTENANCE && this.locked) return {text: T.IN_MAINTENANCE, error: false};
    if (this.#feedback) return {text: this.#feedback.text, error: this.#feedback.error};
    if (this.paused) return {text: T.PAUSED, error: false};
    return {text: T.PROMPT, error: false};
  }

  /** What to say about the server link, or null when all is well. */
  get linkText() {
    if (this.link === 'up') return null;
    if (this.link === 'connecting') return T.CONNECTING;
    if (this.closeCode === Close.NOT_FOUND) return T.POSTE_UNKNOWN;
    if (this.closeCode === Close.FORBIDDEN) return T.TOKEN_REFUSED;
    return T.UNREACHABLE;
  }

  // ---- inputs

  /** At start-up, a session kept in localStorage (`deadline`: wall-clock epoch ms). The countdown
   * goes on from what was kept, and the code is re-presented to the server on the next connection
   * (the same code from the same poste answers with the time left). */
  resume(code, deadline) {
    const left = deadline - this.clock.time();
    if (left <= 0) return this.#lock(T.endedText(Reason.EXPIRATION));
    this.code = code;
    this.#deadline = this.clock.monotonic() + left;
    this.#resumeCode = code;
    return [];
  }

  connected() {
    this.link = 'up';
    this.closeCode = null;
    this.#nextHeartbeat = this.clock.monotonic();   // the first heartbeat goes at the next tick
    if (this.#resumeCode) return [[SEND, {type: Type.VALIDATE_CODE, code: this.#resumeCode}]];
    return [];
  }

  disconnected(closeCode = null) {
    this.link = 'down';
    this.closeCode = closeCode;
    this.#pending = null;     // its answer will not come on a new connection
    this.#dropCharter();      // the code is typed again once the link is back
    return [];
  }

  submitCode(text) {
    if (!this.canEnterCode) return [];
    const code = normaliseCode(text);
    if (code.length !== CODE_LENGTH) {
      this.#say(T.BAD_LENGTH, true);
      return [];
    }
    this.#pending = {code, at: this.clock.monotonic()};
    this.#feedback = null;
    // The visitor is back from a pause: their own code resumes the session.
    if (this.paused) return [[SEND, {type: Type.RESUME, code}]];
    return [[SEND, {type: Type.VALIDATE_CODE, code}]];
  }

  /** The visitor leaves: lock now; the server is told now, or when it is back. */
  endSession() {
    if (this.locked) return [];
    return this.#endHere(Reason.BY_VISITOR);
  }

  #endHere(raison) {
    this.#endedCode = this.code;
    this.#endedRaison = raison;
    const effects = this.link === 'up' ? [[SEND, this.#endMessage()]] : [];
    return effects.concat(this.#lock(T.endedText(raison)));
  }

  #endMessage() {
    if (this.#endedRaison === Reason.INACTIVITY) return {type: Type.END_SESSION, raison: Reason.INACTIVITY};
    return {type: Type.END_SESSION};
  }

  /** The visitor steps away: the server pauses the session and answers `paused`. */
  pause() {
    if (this.locked || this.paused || this.link !== 'up') return [];
    return [[SEND, {type: Type.PAUSE}]];
  }

  /** The visitor asks for `seconds` more: one request at a time. */
  requestTime(seconds) {
    if (this.locked || this.paused || this.link !== 'up' || this.requestPending) return [];
    this.requestPending = true;
    return [[SEND, {type: Type.REQUEST_TIME, seconds}]];
  }

  /** The visitor's input (keyboard, mouse, touch), now or at monotonic time `at`. */
  activity(at = null) {
    const when = at === null ? this.clock.monotonic() : at;
    if (when > this.#lastInput) {
      this.#lastInput = when;
      if (this.#idleWarned) {
        this.#idleWarned = false;
        if (this.notice === T.INACTIVITY_NOTICE) this.notice = null;
      }
    }
  }

  /** The visitor accepts the charter shown: the code goes again, with the version accepted. */
  acceptCharter() {
    if (this.charter === null || this.link !== 'up') return [];
    const code = this.#charterCode;
    const version = this.charter.version;
    this.#dropCharter();
    this.#pending = {code, at: this.clock.monotonic()};
    return [[SEND, {type: Type.ACCEPT_CHARTER, code, version}]];
  }

  declineCharter() {
    if (this.charter === null) return [];
    this.#dropCharter();
    this.#say(T.CHARTER_DECLINED, false);
    return [];
  }

  dismissNotice() {
    this.notice = null;
    this.message = null;
    this.activity();
  }

  tick() {
    const now = this.clock.monotonic();
    const effects = [];
    if (!this.locked && !this.paused && this.remaining() === 0) {
      effects.push(...this.#lock(T.endedText(Reason.EXPIRATION)));
    }
    if (!this.locked && !this.paused && this.inactivity > 0) {
      const idle = (now - this.#lastInput) / 1000;
      if (idle >= this.inactivity) {
        effects.push(...this.#endHere(Reason.INACTIVITY));
      } else if (idle >= this.inactivity - Math.min(INACTIVITY_WARNING, this.inactivity / 2) && !this.#idleWarned) {
        this.#idleWarned = true;
        this.#notify(T.INACTIVITY_NOTICE);
      }
    }
    if (this.#pending && now - this.#pending.at >= ANSWER_TIMEOUT_MS) {
      this.#pending = null;
      this.#say(T.NO_ANSWER, true);
    }
    if (this.#feedback && now >= this.#feedback.until) this.#feedback = null;
    if (this.notice && now >= this.#noticeUntil) this.notice = null;
    if (this.message && now >= this.#messageUntil) this.message = null;
    if (this.charter !== null && now >= this.#charterUntil) {
      this.#dropCharter();
      this.#say(T.CHARTER_TIMEOUT, false);
    }
    if (this.link === 'up' && now >= this.#nextHeartbeat) {
      this.#nextHeartbeat = now + HEARTBEAT_MS;
      effects.push([SEND, this.#heartbeat()]);
    }
    return effects;
  }

  /** A message from the server (an object); anything else, and unknown actions, are ignored.
   * `error` needs nothing here: main.js logs it. */
  handleMessage(msg) {
    switch (mapping(msg) && msg.action) {
      case Action.SYNC: return this.#onSync(msg);
      case Action.SESSION_STARTED: return this.#onSessionStarted(msg);
      case Action.CODE_INVALID: return this.#onCodeInvalid(msg);
      case Action.ADD_TIME: return this.#onAddTime(msg);
      case Action.WARNING: return this.#onWarning(msg);
      case Action.CLOSE_SESSION: return this.#onCloseSession(msg);
      case Action.CHARTER_REQUIRED: return this.#onCharterRequired(msg);
      case Action.PAUSED: return this.#onPaused(msg);
      case Action.RESUMED: return this.#onResumed(msg);
      case Action.MESSAGE: return this.#onMessage(msg);
      case Action.COMMAND: return this.#onCommand(msg);
      case Action.REQUEST_PENDING: return this.#onRequestPending(msg);
      case Action.REQUEST_REFUSED: return this.#onRequestRefused(msg);
      case Action.ERROR: return this.#onError(msg);
      case Action.CLOSING: return this.#onClosing(msg);
      default: return [];
    }
  }

  // ---- server messages

  #onSync(msg) {
    this.statut = msg.statut === undefined ? null : msg.statut;
    this.#takeInactivity(msg);
    if (text(msg.bibliotheque)) this.libraryName = msg.bibliotheque;
    if (typeof msg.page_accueil === 'string') this.homePage = msg.page_accueil;   // '' when none
    const session = mapping(msg.session);
    const left = seconds(msg.temps_restant);
    this.#resumeCode = null;
    if (session && left) {
      const code = text(session.code_acces) || this.code;
      if (code && code === this.#endedCode) {
        // The visitor ended it while we could not say so: say it now, stay locked.
        return [[SEND, this.#endMessage()]];
      }
      if (session.statut === SUSPENDUE) return this.#pause(code, left);
      return this.#enter(code, left);
    }
    if (!this.locked) return this.#lock(T.ENDED_OTHER);
    return [];
  }

  #onSessionStarted(msg) {
    const left = seconds(msg.temps_restant);
    this.#takeInactivity(msg);
    const session = mapping(msg.session) || {};
    const code = text(session.code_acces) || (this.#pending ? this.#pending.code : this.#resumeCode);
    this.#pending = null;
    this.#resumeCode = null;
    if (!code || !left) return [];
    return this.#enter(code, left);
  }

  /** The code is valid, but the visitor must first accept the charter (only an answer to the code
   * just typed is shown). */
  #onCharterRequired(msg) {
    const charter = mapping(msg.charte);
    const version = charter ? charter.version : null;
    if (!this.#pending || !this.locked || !Number.isInteger(version)) return [];
    this.#charterCode = this.#pending.code;
    this.#pending = null;
    this.charter = {version, texte: text(charter.texte) || ''};
    this.#charterUntil = this.clock.monotonic() + CHARTER_MS;
    return [];
  }

  #onCodeInvalid(msg) {
    if (this.#pending) {
      this.#pending = null;
      this.#say(codeInvalidText(msg), true);
    } else if (this.#resumeCode) {
      // The kept session is over on the server.
      this.#resumeCode = null;
      if (!this.locked) return this.#lock(T.ENDED_OTHER);
    }
    // Otherwise it answers a code re-presented after a `sync` already said all.
    return [];
  }

  #onAddTime(msg) {
    const left = seconds(msg.temps_restant);
    if (this.locked || !left) return [];
    const added = seconds(msg.seconds);
    this.requestPending = false;
    if (added) this.#notify(T.timeAdded(added));
    return this.#enter(this.code, left);
  }

  #onWarning(msg) {
    const left = seconds(msg.temps_restant);
    if (this.locked || left === null) return [];
    this.#notify(text(msg.message) || T.timeLeft(left));
    return left ? this.#enter(this.code, left) : [];
  }

  #onCloseSession(msg) {
    this.#resumeCode = null;
    if (this.locked) return [];
    return this.#lock(T.endedText(msg.raison));
  }

  #onPaused(msg) {
    const left = seconds(msg.temps_restant);
    const code = this.code || (this.#pending ? this.#pending.code : this.#resumeCode);
    this.#pending = null;
    this.#resumeCode = null;
    if (!code) return [];
    return this.#pause(code, left !== null ? left : this.remaining());
  }

  #onResumed(msg) {
    const left = seconds(msg.temps_restant);
    this.#pending = null;
    if (this.locked || !left) return [];
    return this.#enter(this.code, left);
  }

  #onMessage(msg) {
    const said = text(msg.message);
    if (said) {
      this.message = said;
      this.#messageUntil = this.clock.monotonic() + DESK_MESSAGE_MS;
    }
    return [];
  }

  #onCommand(msg) {
    const commande = msg.commande;
    if (!KIOSK_COMMANDS.includes(commande)) return [];
    if (commande === LOCK && (this.locked || this.paused)) {
      this.#say(T.COMMAND_TEXTS[LOCK], false);
      return [[COMMAND, commande]];
    }
    // The server ended the session first; should it still run here, it ends now.
    const effects = this.locked ? [] : this.#lock(T.COMMAND_TEXTS[commande]);
    this.#say(T.COMMAND_TEXTS[commande], false);
    return effects.concat([[COMMAND, commande]]);
  }

  #onRequestPending() {
    if (!this.locked) this.#notify(T.REQUEST_SENT);
    return [];
  }

  #onRequestRefused(msg) {
    this.requestPending = false;
    if (!this.locked) this.#notify(T.refusedText(text(msg.motif)));
    return [];
  }

  #onError(msg) {
    if (msg.type === Type.REQUEST_TIME && this.requestPending) {
      this.requestPending = false;
      if (!this.locked) this.#notify(text(msg.detail) || T.refusedText(null));
    }
    return [];
  }

  /** The library closes soon: said on the lock screen, or shown during the session until it ends
   * (the visitor may dismiss it); the countdown is cut to the server's figure, never lengthened. */
  #onClosing(msg) {
    const left = seconds(msg.temps_restant);
    const said = text(msg.message) || T.CLOSING_SOON;
    if (this.locked) {
      this.#say(said, false);
      return [];
    }
    this.notice = said;
    this.#noticeUntil = Infinity;
    if (left && left < this.remaining()) return this.#enter(this.code, left);
    return [];
  }

  // ---- helpers

  #takeInactivity(msg) {
    const value = seconds(msg.inactivite);
    if (value !== null) this.inactivity = value;
  }

  /** The session of `code` is paused with `left` seconds: the lock screen, time frozen. */
  #pause(code, left) {
    this.code = code;
    this.paused = true;
    this.#pausedLeft = left;
    this.#deadline = null;
    this.notice = null;
    this.requestPending = false;
    this.#feedback = null;
    return [];
  }

  /** Start or go on with a session that has `left` seconds, by the server's figure. */
  #enter(code, left) {
    if (!code) return [];
    this.#dropCharter();
    if (this.locked || this.paused) {
      this.#feedback = null;
      this.#lastInput = this.clock.monotonic();   // inactivity counts from the start
      this.#idleWarned = false;
    }
    this.paused = false;
    if (code !== this.#endedCode) this.#endedCode = null;
    this.code = code;
    this.#deadline = this.clock.monotonic() + left * 1000;
    return [[SAVE, code, this.clock.time() + left * 1000]];
  }

  #dropCharter() {
    this.charter = null;
    this.#charterCode = null;
  }

  #lock(message) {
    this.code = null;
    this.#deadline = null;
    this.notice = null;
    this.paused = false;
    this.requestPending = false;
    this.#say(message, false);
    return [[FORGET], [END_COMMAND]];
  }

  #say(message, error) {
    this.#feedback = {text: message, error, until: this.clock.monotonic() + MESSAGE_MS};
  }

  #notify(message) {
    this.notice = message;
    this.#noticeUntil = this.clock.monotonic() + NOTICE_MS;
  }

  #heartbeat() {
    if (this.locked) return {type: Type.HEARTBEAT};
    return {type: Type.HEARTBEAT, temps_restant: this.remaining(), code: this.code};
  }
}

/** A non-negative whole number of seconds from the server, or null. */
function seconds(value) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.ceil(value)) : null;
}

/** A JSON object with at least one field, or null (Python's truthiness of a dict). */
function mapping(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) &&
         Object.keys(value).length > 0 ? value : null;
}

/** A non-empty string from the server, or null. */
function text(value) {
  return typeof value === 'string' && value ? value : null;
}

function codeInvalidText(msg) {
  // The server's own detail is French and precise ("Ce code est réservé à un autre poste.").
  if (msg.retry_after) return T.TOO_MANY_TRIES;
  const detail = typeof msg.detail === 'string' ? msg.detail.trim() : '';
  return detail || T.CODE_UNKNOWN;
}
