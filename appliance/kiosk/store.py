"""The session kept on disk, so that a kiosk restarted mid-session resumes it.

One small JSON file: the code and the deadline as wall-clock epoch seconds (the monotonic clock does
not survive a reboot). Written atomically; a missing or unreadable file means "no session".
"""
import json
import logging
import os

log = logging.getLogger(__name__)


class SessionStore:
    def __init__(self, path):
        self.path = path

    def load(self):
        """(code, deadline) or None."""
        try:
            with open(self.path, encoding='utf-8') as f:
                data = json.load(f)
            code, deadline = data['code'], data['deadline']
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning('ignoring unreadable session file %s: %s', self.path, exc)
            return None
        if not isinstance(code, str) or not code or not isinstance(deadline, (int, float)):
            log.warning('ignoring malformed session file %s', self.path)
            return None
        return code, float(deadline)

    def save(self, code, deadline):
        os.makedirs(os.path.dirname(self.path) or '.', exist_ok=True)
        tmp = self.path + '.tmp'
        try:
            with open(tmp, 'w', encoding='utf-8') as f:
                json.dump({'code': code, 'deadline': deadline}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            # The session goes on; only a reboot would lose it.
            log.error('cannot keep the session in %s: %s', self.path, exc)

    def forget(self):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.error('cannot remove %s: %s', self.path, exc)
