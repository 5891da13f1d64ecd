"""The kiosk without its screen: state machine, server link, kept session and end command, wired.

One thread owns it: the Tk main thread calls pump() a few times a second (the link thread only
fills the event queue). The screen calls submit_code() and end_session() and reads `state`.
"""
import logging
import queue
import subprocess
import threading
import time

from appliance.kiosk.connection import Connection
from appliance.kiosk.idle import NoIdle
from appliance.kiosk.state import COMMAND, END_COMMAND, FORGET, SAVE, SEND, KioskState, format_remaining
from appliance.kiosk.store import SessionStore

log = logging.getLogger(__name__)
END_COMMAND_TIMEOUT = 300


class SystemClock:
    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)


class Runtime:
    def __init__(self, config, clock=None):
        self.config = config
        self.events = queue.Queue()
        self.state = KioskState(clock or SystemClock())
        self.link = Connection(config.ws_url, config.headers, self.events, sslopt=config.sslopt)
        self.store = SessionStore(config.state_file)
        self._shown = None
        self.idle = NoIdle()    # the system's idle time (kiosk/idle.py); the screen sets it

    def start(self):
        kept = self.store.load()
        if kept:
            log.info('resuming the session kept in %s', self.store.path)
            self._apply(self.state.resume(*kept))
        self.link.start()
        self._report()

    def stop(self):
        self.link.stop()

    def pump(self):
        """Carries out what happened since the last call and what time asks for."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self._apply(self._dispatch(event))
        idle = self.idle.seconds()
        if idle is not None:     # input anywhere on the computer counts (inactivity)
            self.state.activity(self.state.clock.monotonic() - idle)
        self._apply(self.state.tick())
        self._report()

    def pause(self):
        self._apply(self.state.pause())
        self._report()

    def request_time(self, seconds):
        self._apply(self.state.request_time(seconds))
        self._report()

    def activity(self):
        self.state.activity()

    def submit_code(self, text):
        self._apply(self.state.submit_code(text))
        self._report()

    def end_session(self):
        self._apply(self.state.end_session())
        self._report()

    def accept_charter(self):
        self._apply(self.state.accept_charter())
        self._report()

    def decline_charter(self):
        self._apply(self.state.decline_charter())
        self._report()

    def _dispatch(self, event):
        kind = event[0]
        if kind == 'connected':
            return self.state.connected()
        if kind == 'disconnected':
            return self.state.disconnected(event[1])
        message = event[1]
        if message.get('action') == 'error':
            log.warning('the server says: %s', message.get('detail'))
        return self.state.handle_message(message)

    def _apply(self, effects):
        for effect in effects:
            if effect[0] == SEND:
                self.link.send(effect[1])
            elif effect[0] == SAVE:
                self.store.save(effect[1], effect[2])
            elif effect[0] == FORGET:
                self.store.forget()
            elif effect[0] == END_COMMAND:
                run_end_command(self.config.end_command)
            elif effect[0] == COMMAND:
                log.warning('the desk asks: %s', effect[1])
                run_end_command(self.config.commands.get(effect[1], ''), what=effect[1])

    def _report(self):
        """Logs what the screen shows whenever it changes: what a visitor saw is then on record."""
        state = self.state
        shown = (state.locked, state.feedback[0] if state.locked or state.paused else None, state.link_text,
                 state.notice, state.paused, state.message, state.charter['version'] if state.charter else None)
        if shown == self._shown:
            return
        self._shown = shown
        if state.message:
            log.info('screen: message | %s', state.message)
        if (state.locked or state.paused) and state.charter:
            log.info('screen: charter version %d to accept | %s', state.charter['version'],
                     state.link_text or 'online')
        elif state.paused:
            log.info('screen: paused %s left | %s | %s', format_remaining(state.remaining()), state.feedback[0],
                     state.link_text or 'online')
        elif state.locked:
            log.info('screen: locked | %s | %s', state.feedback[0], state.link_text or 'online')
        else:
            log.info('screen: session %s left | %s | %s', format_remaining(state.remaining()),
                     state.notice or '-', state.link_text or 'online')


def run_end_command(command, what='end-of-session'):
    """Runs the configured command in the background (it may take a while, or log us out).
    `what` names it in the log (the end of a session, or a command of the desk)."""
    if not command:
        return

    def run():
        try:
            done = subprocess.run(command, shell=True, timeout=END_COMMAND_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error('%s command failed: %s', what, exc)
            return
        if done.returncode:
            log.error('%s command exited with status %d', what, done.returncode)
        else:
            log.info('%s command done', what)

    log.info('running the %s command', what)
    threading.Thread(target=run, name='end-command', daemon=True).start()
