"""Helpers for the kiosk's end-to-end tests. The kiosk always runs in a process of its own: the test
process is gevent-patched, the kiosk must not be.

Run as a script, this file is a headless kiosk: the real Runtime (state machine, server link, kept
session, end command) without Tk. It reads commands on stdin ("code ABC234", "end", "quit") and
prints what the screen would show, one JSON line per change.
"""
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREEN_SIZE = '1280x800x24'


def write_config(path, server, poste, token, state_file, end_log, **extra):
    """A kiosk.ini whose end command appends a line to `end_log` (one line per run)."""
    values = {'server': server, 'poste': poste, 'token': token, 'state_file': state_file,
              'library_name': 'Médiathèque des Tests',
              'end_command': '{} -c "import sys; open(sys.argv[1], \'a\').write(\'fin\\n\')" {}'.format(
                  sys.executable, end_log)}
    values.update(extra)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('[kiosk]\n' + ''.join('{} = {}\n'.format(k, v) for k, v in values.items()))
    return path


def end_runs(end_log):
    """How many times the end-of-session command ran."""
    try:
        with open(end_log, encoding='utf-8') as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def wait_until(predicate, timeout, step=0.05, message='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after {} s waiting for {}'.format(timeout, message))
        time.sleep(step)


class KioskProcess:
    """A kiosk subprocess; its log (stderr) goes to a file the tests can read."""

    def __init__(self, args, log_path, env=None):
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
        full_env.pop('KIOSK_CONFIG', None)
        self.process = subprocess.Popen(args, cwd=ROOT, env=full_env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self._log)

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, text, timeout=10):
        return wait_until(lambda: text in self.log(), timeout, message=repr(text) + ' in the log')

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def kill(self):
        """As a power cut would: no clean-up at all."""
        self.process.kill()
        self.process.wait()
        self._log.close()


class HeadlessKiosk(KioskProcess):
    def __init__(self, config_path, log_path):
        super().__init__([sys.executable, os.path.abspath(__file__), config_path], log_path)
        self.views = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.views.append(json.loads(line))

    @property
    def view(self):
        return self.views[-1] if self.views else {}

    def command(self, text):
        """Sends a command; returns how many views were printed before it."""
        count = len(self.views)
        self.process.stdin.write(text.encode() + b'\n')
        self.process.stdin.flush()
        return count

    def wait(self, predicate, timeout=10, message='kiosk view', after=None):
        """The current view once it satisfies `predicate`; with `after` (a count of views, as
        command() returns), only a view printed after that one counts."""
        def match():
            view = self.view
            fresh = after is None or len(self.views) > after
            return view if view and fresh and predicate(view) else None
        return wait_until(match, timeout, message=message + ' (last: {})'.format(self.view))

    def wait_online(self):
        return self.wait(lambda v: (v['link'] is None and v['can_enter_code']) or not v['locked'],
                         message='online')


class VirtualScreen:
    """An Xvfb display of our own (it picks a free display number and tells us on a pipe)."""

    def __init__(self):
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            ['Xvfb', '-displayfd', str(write_end), '-screen', '0', SCREEN_SIZE, '-nolisten', 'tcp'],
            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise RuntimeError('Xvfb did not start')
        self.display = ':' + number

    def xdotool(self, *args, check=True):
        done = subprocess.run(['xdotool', *args], env=dict(os.environ, DISPLAY=self.display),
                              capture_output=True, text=True, timeout=10)
        if check and done.returncode:
            raise AssertionError('xdotool {} failed: {}'.format(' '.join(args), done.stderr))
        return done.stdout.strip()

    def window(self, title):
        """The id of the visible window with exactly this title, or None."""
        found = self.xdotool('search', '--onlyvisible', '--name', '^{}$'.format(title), check=False)
        return found.split()[0] if found else None

    def type(self, text):
        self.xdotool('type', '--delay', '30', text)

    def key(self, keys):
        self.xdotool('key', keys)

    def stop(self):
        self.process.terminate()
        self.process.wait(5)


def have_virtual_screen():
    return bool(shutil.which('Xvfb') and shutil.which('xdotool'))


def _headless_main(config_path):
    import logging

    from appliance.kiosk.config import load_config
    from appliance.kiosk.runtime import Runtime

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s: %(message)s')
    runtime = Runtime(load_config(config_path))
    commands = queue.Queue()

    def read_commands():
        for line in sys.stdin:
            commands.put(line.strip())
        commands.put('quit')

    threading.Thread(target=read_commands, daemon=True).start()
    runtime.start()
    shown = None
    while True:
        try:
            verb, _, argument = commands.get(timeout=0.05).partition(' ')
        except queue.Empty:
            verb = None
        if verb == 'quit':
            break
        if verb == 'code':
            runtime.submit_code(argument)
        elif verb == 'end':
            runtime.end_session()
        runtime.pump()
        state = runtime.state
        view = {'locked': state.locked, 'code': state.code, 'remaining': state.remaining(),
                'feedback': state.feedback[0], 'error': state.feedback[1], 'link': state.link_text,
                'notice': state.notice, 'can_enter_code': state.can_enter_code,
                'statut': state.statut}
        if view != shown:
            print(json.dumps(view), flush=True)
            shown = view
    runtime.stop()


if __name__ == '__main__':
    _headless_main(sys.argv[1])
