/* The kiosk page: the lock screen for terminals that only run a browser (docs/kiosk.md).
 *
 * It speaks the kiosk WebSocket protocol of CONTRACT §4 with the same rules as the Tk kiosk
 * (appliance/kiosk/state.py): the server's figure wins, the countdown goes on while disconnected and
 * locks at zero by itself, a session kept in localStorage is resumed after a reload by re-presenting
 * its code, heartbeats every 5 s.
 */
(function () {
  'use strict';

  var HEARTBEAT_MS = 5000;
  var ANSWER_TIMEOUT_MS = 10000;   // no answer to a code: say so and let the visitor retry
  var MESSAGE_MS = 30000;          // feedback goes back to the plain invitation after this
  var NOTICE_MS = 30000;           // a warning hides itself after this
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var SETTINGS_KEY = 'poste-public-kiosk';
  var SESSION_KEY = 'poste-public-kiosk-session';

  var TEXT = {
    prompt: "Entrez le code remis à l'accueil",
    unknown: 'Code inconnu ou expiré',
    tooMany: "Trop d'essais : patientez une minute",
    badLength: 'Le code comporte 6 caractères.',
    noAnswer: 'Le serveur ne répond pas : réessayez dans un instant.',
    maintenance: 'Ce poste est en maintenance.',
    connecting: 'Connexion au serveur…',
    unreachable: 'Serveur injoignable : nouvelle tentative…',
    posteUnknown: "Ce poste n'est pas enregistré sur le serveur : prévenez l'accueil.",
    tokenRefused: "Ce poste n'est pas autorisé par le serveur : prévenez l'accueil.",
    notConfigured: "Ce terminal n'est pas configuré : ouvrez /kiosk/#poste=ADRESSE&token=JETON",
    offline: 'Hors ligne : le décompte continue',
    ended: {
      expiration: 'Votre session est terminée. Merci de votre visite !',
      fermeture_staff: "Votre session a été fermée par l'accueil.",
      fermeture_utilisateur: 'Session terminée. À bientôt !'
    },
    endedOther: 'Session terminée.'
  };

  var $ = function (id) { return document.getElementById(id); };

  // ---- settings: the URL fragment (never sent to the server), then localStorage

  function readSettings() {
    var fragment = new URLSearchParams(location.hash.slice(1));
    var settings = readJSON(SETTINGS_KEY);
    if (fragment.get('poste')) {
      settings = {
        poste: fragment.get('poste'),
        token: fragment.get('token') || '',
        bibliotheque: fragment.get('bibliotheque') || '',
        accueil: fragment.get('accueil') || ''
      };
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
      // The token leaves the address bar (and the history) at once.
      history.replaceState(null, '', location.pathname + location.search);
    }
    return settings && settings.poste ? settings : null;
  }

  function readJSON(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch (e) {
      return null;
    }
  }

  // ---- the state (the same fields as KioskState)

  var state = {
    link: 'connecting',      // 'connecting', 'up', 'down'
    closeCode: null,
    statut: null,
    code: null,              // null while locked
    deadline: null,          // performance.now() at the end of the session
    pending: null,           // {code, at} while waiting for an answer
    resumeCode: null,        // a kept code, re-presented until the server answers
    endedCode: null,         // a session the visitor ended: never resumed
    feedback: null,          // {text, error, until}
    notice: null,
    noticeUntil: 0,
    nextHeartbeat: 0
  };

  function now() { return performance.now(); }
  function locked() { return state.code === null; }

  function remaining() {
    if (state.deadline === null) return 0;
    return Math.max(0, Math.ceil((state.deadline - now()) / 1000 - 1e-6));
  }

  function canEnterCode() {
    return locked() && state.link === 'up' && !state.pending && state.statut !== 'maintenance';
  }

  function say(text, error) {
    state.feedback = {text: text, error: error, until: now() + MESSAGE_MS};
  }

  function notify(text) {
    state.notice = text;
    state.noticeUntil = now() + NOTICE_MS;
  }

  function enter(code, left) {
    if (!code) return;
    if (locked()) state.feedback = null;
    if (code !== state.endedCode) state.endedCode = null;
    state.code = code;
    state.deadline = now() + left * 1000;
    localStorage.setItem(SESSION_KEY, JSON.stringify({code: code, deadline: Date.now() + left * 1000}));
  }

  function lock(text) {
    state.code = null;
    state.deadline = null;
    state.notice = null;
    say(text, false);
    localStorage.removeItem(SESSION_KEY);
    $('home').removeAttribute('src');     // what was browsed goes with the session
  }

  function seconds(value) {
    return typeof value === 'number' && isFinite(value) ? Math.max(0, Math.ceil(value)) : null;
  }

  function minutesText(secs) {
    var minutes = Math.round(secs / 60);
    if (minutes < 1) return "moins d'une minute";
    return minutes + ' minute' + (minutes > 1 ? 's' : '');
  }

  function formatRemaining(secs) {
    var h = Math.floor(secs / 3600);
    var m = Math.floor((secs % 3600) / 60);
    var s = secs % 60;
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return h ? h + ':' + pad(m) + ':' + pad(s) : pad(m) + ':' + pad(s);
  }

  // ---- server messages

  var handlers = {
    sync: function (msg) {
      state.statut = msg.statut || null;
      state.resumeCode = null;
      var left = seconds(msg.temps_restant);
      if (msg.session && left) {
        var code = msg.session.code_acces || state.code;
        if (code && code === state.endedCode) {
          send({type: 'end_session'});     // ended here while the server could not hear it
          return;
        }
        enter(code, left);
      } else if (!locked()) {
        lock(TEXT.endedOther);
      }
    },
    session_started: function (msg) {
      var left = seconds(msg.temps_restant);
      var code = (msg.session && msg.session.code_acces) ||
                 (state.pending ? state.pending.code : state.resumeCode);
      state.pending = null;
      state.resumeCode = null;
      if (code && left) enter(code, left);
    },
    code_invalid: function (msg) {
      if (state.pending) {
        state.pending = null;
        var detail = typeof msg.detail === 'string' && msg.detail.trim();
        say(msg.retry_after ? TEXT.tooMany : detail || TEXT.unknown, true);
      } else if (state.resumeCode) {
        state.resumeCode = null;           // the kept session is over on the server
        if (!locked()) lock(TEXT.endedOther);
      }
      // Otherwise it answers a code re-presented after a `sync` already said all.
    },
    add_time: function (msg) {
      var left = seconds(msg.temps_restant);
      if (locked() || !left) return;
      var added = seconds(msg.seconds);
      if (added) notify('Temps ajouté : ' + minutesText(added) + '.');
      enter(state.code, left);
    },
    warning: function (msg) {
      var left = seconds(msg.temps_restant);
      if (locked() || left === null) return;
      notify(msg.message || 'Il vous reste ' + minutesText(left) + '.');
      if (left) enter(state.code, left);
    },
    close_session: function (msg) {
      state.resumeCode = null;
      if (!locked()) lock(TEXT.ended[msg.raison] || TEXT.endedOther);
    },
    error: function (msg) {
      console.warn('Le serveur signale :', msg.detail);
    }
  };

  // ---- visitor actions

  function submitCode(text) {
    if (!canEnterCode()) return;
    var code = text.toUpperCase().replace(/[^A-Z0-9]/g, '');
    if (code.length !== 6) {
      say(TEXT.badLength, true);
      return;
    }
    state.pending = {code: code, at: now()};
    state.feedback = null;
    send({type: 'validate_code', code: code});
  }

  function endSession() {
    if (locked()) return;
    state.endedCode = state.code;
    if (state.link === 'up') send({type: 'end_session'});
    lock(TEXT.ended.fermeture_utilisateur);
  }

  // ---- time passing

  function tick() {
    var t = now();
    if (!locked() && remaining() === 0) lock(TEXT.ended.expiration);
    if (state.pending && t - state.pending.at >= ANSWER_TIMEOUT_MS) {
      state.pending = null;
      say(TEXT.noAnswer, true);
    }
    if (state.feedback && t >= state.feedback.until) state.feedback = null;
    if (state.notice && t >= state.noticeUntil) state.notice = null;
    if (state.link === 'up' && t >= state.nextHeartbeat) {
      state.nextHeartbeat = t + HEARTBEAT_MS;
      send(locked() ? {type: 'heartbeat'}
                    : {type: 'heartbeat', temps_restant: remaining(), code: state.code});
    }
  }

  // ---- the link

  var socket = null;
  var failures = 0;

  function backoff(attempt) {
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, Math.min(attempt - 1, 16)));
    return base * (0.8 + 0.4 * Math.random());
  }

  function connect(settings) {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    // The contract lets the token ride in the WebSocket address: a browser cannot set headers.
    var url = scheme + location.host + '/ws/poste/' + encodeURIComponent(settings.poste) + '/' +
              (settings.token ? '?token=' + encodeURIComponent(settings.token) : '');
    var heard = false;
    socket = new WebSocket(url);
    socket.onopen = function () {
      state.link = 'up';
      state.closeCode = null;
      state.nextHeartbeat = now();
      if (state.resumeCode) send({type: 'validate_code', code: state.resumeCode});
    };
    socket.onmessage = function (event) {
      var msg;
      try {
        msg = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      heard = true;
      var handler = msg && handlers[msg.action];
      if (handler) handler(msg);
      render();
    };
    socket.onclose = function (event) {
      socket = null;
      state.link = 'down';
      state.closeCode = event.code;
      state.pending = null;
      // Refused before a word (4403, 4404) counts as a failure: a misconfigured page backs off.
      failures = heard ? 1 : failures + 1;
      setTimeout(function () { connect(settings); }, backoff(failures));
      render();
    };
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  // ---- drawing

  var shown = {mode: null, notice: null, pending: null};

  function linkText() {
    if (state.link === 'up') return '';
    if (state.link === 'connecting') return TEXT.connecting;
    if (state.closeCode === 4404) return TEXT.posteUnknown;
    if (state.closeCode === 4403) return TEXT.tokenRefused;
    return TEXT.unreachable;
  }

  function render() {
    var mode = locked() ? 'lock' : 'session';
    if (mode !== shown.mode) {
      shown.mode = mode;
      $('lock').hidden = mode !== 'lock';
      $('session').hidden = mode !== 'session';
      $('code').value = '';
      showConfirm(false);
      if (mode === 'session' && settings.accueil) $('home').src = settings.accueil;
    }
    if (mode === 'lock') {
      var feedback = state.statut === 'maintenance' ? {text: TEXT.maintenance, error: false}
                   : state.feedback || {text: TEXT.prompt, error: false};
      var field = $('code');
      if (shown.pending && !state.pending) field.value = '';   // answered: ready for the next try
      shown.pending = state.pending;
      $('feedback').textContent = feedback.text;
      $('feedback').className = feedback.error ? 'error' : '';
      var enabled = canEnterCode();
      if (field.disabled === enabled) {
        field.disabled = !enabled;
        $('code-submit').disabled = !enabled;
        if (enabled) field.focus();
      }
      $('link').textContent = linkText();
      var time = new Date();
      $('clock').textContent = String(time.getHours()).padStart(2, '0') + ':' +
                               String(time.getMinutes()).padStart(2, '0');
    } else {
      var left = remaining();
      $('remaining').textContent = formatRemaining(left);
      $('timer').className = 'timer' + (left <= 60 ? ' very-soon' : left <= 300 ? ' soon' : '');
      $('offline').textContent = state.link === 'up' ? '' : TEXT.offline;
    }
    var notice = mode === 'session' ? state.notice : null;
    if (notice !== shown.notice) {
      shown.notice = notice;
      $('notice').hidden = !notice;
      $('notice-text').textContent = notice || '';
    }
  }

  function showConfirm(visible) {
    $('confirm').hidden = !visible;
    $('end').hidden = visible;
  }

  function makeMovable(element) {
    var offset = null;
    element.addEventListener('pointerdown', function (event) {
      if (event.target.tagName === 'BUTTON') return;
      var box = element.getBoundingClientRect();
      offset = {x: event.clientX - box.left, y: event.clientY - box.top};
      element.setPointerCapture(event.pointerId);
    });
    element.addEventListener('pointermove', function (event) {
      if (!offset) return;
      element.style.left = Math.max(0, event.clientX - offset.x) + 'px';
      element.style.top = Math.max(0, event.clientY - offset.y) + 'px';
      element.style.right = 'auto';
    });
    element.addEventListener('pointerup', function () { offset = null; });
  }

  // ---- start

  var settings = readSettings();
  if (!settings) {
    $('feedback').textContent = TEXT.notConfigured;
    $('link').textContent = '';
    return;
  }
  if (settings.bibliotheque) {
    $('library').textContent = settings.bibliotheque;
    document.title = settings.bibliotheque + ' — Poste Public';
  }
  $('home').hidden = !settings.accueil;
  $('session-welcome').hidden = !!settings.accueil;

  var kept = readJSON(SESSION_KEY);
  if (kept && typeof kept.code === 'string' && typeof kept.deadline === 'number') {
    var left = (kept.deadline - Date.now()) / 1000;
    if (left > 0) {
      state.code = kept.code;
      state.deadline = now() + left * 1000;
      state.resumeCode = kept.code;
    } else {
      localStorage.removeItem(SESSION_KEY);
    }
  }

  $('code-form').addEventListener('submit', function (event) {
    event.preventDefault();
    submitCode($('code').value);
    render();
  });
  $('code').addEventListener('input', function () {
    var clean = this.value.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 8);
    if (clean !== this.value) this.value = clean;
  });
  $('end').addEventListener('click', function () { showConfirm(true); });
  $('end-no').addEventListener('click', function () { showConfirm(false); });
  $('end-yes').addEventListener('click', function () { endSession(); render(); });
  $('notice-ok').addEventListener('click', function () { state.notice = null; render(); });
  makeMovable($('timer'));

  connect(settings);
  setInterval(function () { tick(); render(); }, 200);
  render();
})();
