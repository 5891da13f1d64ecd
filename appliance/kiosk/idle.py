"""How long the visitor has not touched the computer: the system's own idle time, so that input in
any program counts (the browser, an office suite), not only in the kiosk's windows.

Linux (X11): the XScreenSaver extension through ctypes (libXss), else the `xprintidle` program.
Windows: GetLastInputInfo. Elsewhere, or when none answers: None, and the kiosk counts the input
its own windows see (Screen binds them). Standard library only, like the rest of the kiosk.
"""
import ctypes
import ctypes.util
import logging
import os
import shutil
import subprocess
import sys

log = logging.getLogger(__name__)


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [('window', ctypes.c_ulong), ('state', ctypes.c_int), ('kind', ctypes.c_int),
                ('til_or_since', ctypes.c_ulong), ('idle', ctypes.c_ulong),
                ('eventMask', ctypes.c_ulong)]


class X11Idle:
    def __init__(self):
        xlib = ctypes.CDLL(ctypes.util.find_library('X11') or 'libX11.so.6')
        xss = ctypes.CDLL(ctypes.util.find_library('Xss') or 'libXss.so.1')
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultRootWindow.restype = ctypes.c_ulong
        xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                              ctypes.POINTER(_XScreenSaverInfo)]
        self.display = xlib.XOpenDisplay(None)
        if not self.display:
            raise OSError('no X display')
        self.root = xlib.XDefaultRootWindow(self.display)
        self.info = xss.XScreenSaverAllocInfo()
        self.xss = xss

    def seconds_or_none(self):
        if not self.xss.XScreenSaverQueryInfo(self.display, self.root, self.info):
            raise OSError('XScreenSaver extension missing')
        return self.info.contents.idle / 1000

    def seconds(self):
        try:
            return self.seconds_or_none()
        except OSError:
            return None


class XprintidleIdle:
    def __init__(self):
        self.program = shutil.which('xprintidle')
        if not self.program:
            raise OSError('xprintidle not found')

    def seconds(self):
        try:
            return int(subprocess.run([self.program], capture_output=True, timeout=2, check=True).stdout) / 1000
        except (OSError, ValueError, subprocess.SubprocessError):
            return None


class WindowsIdle:
    def __init__(self):
        class LASTINPUTINFO(ctypes.Structure):
            _fields_ = [('cbSize', ctypes.c_uint), ('dwTime', ctypes.c_uint)]
        self.info = LASTINPUTINFO()
        self.info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        self.user32 = ctypes.windll.user32
        self.kernel32 = ctypes.windll.kernel32

    def seconds(self):
        if not self.user32.GetLastInputInfo(ctypes.byref(self.info)):
            return None
        # Both in milliseconds since boot, 32 bits: the difference survives the wrap at 49 days.
        return ((self.kernel32.GetTickCount() - self.info.dwTime) & 0xFFFFFFFF) / 1000


class NoIdle:
    def seconds(self):
        return None


def system_idle(platform=sys.platform):
    """The best idle-time source of this system (NoIdle when there is none)."""
    candidates = [WindowsIdle] if platform.startswith('win') else (
        [X11Idle, XprintidleIdle] if os.environ.get('DISPLAY') else [])
    for candidate in candidates:
        try:
            source = candidate()
            if source.seconds() is not None:
                log.info('inactivity: system idle time from %s', candidate.__name__)
                return source
        except (OSError, AttributeError, ValueError) as exc:
            log.debug('inactivity: %s unavailable (%s)', candidate.__name__, exc)
    log.info('inactivity: no system idle time; the kiosk counts the input its windows see')
    return NoIdle()
