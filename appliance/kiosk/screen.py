"""The kiosk's screen, in standard-library Tk: lock screen, countdown, warnings, admin escape.

Only the Tk main thread touches widgets. Every POLL_MS it pumps the runtime (which reads the link
thread's queue) and redraws from the state. Windows have fixed ASCII titles so that tools (and the
tests, with xdotool) can tell which one is showing.
"""
import logging
import time
import tkinter as tk
import webbrowser

from appliance.kiosk.admin import AdminGate
from appliance.kiosk.idle import system_idle
from appliance.kiosk.state import format_remaining
from appliance.protocol import normalise_code

log = logging.getLogger(__name__)

POLL_MS = 100
RAISE_EVERY = 1.0           # seconds between re-raising our windows above anything that popped up
ADMIN_KEYS = '<Control-Shift-F12>'
REQUEST_SECONDS = 900       # « Plus de temps » asks for a quarter of an hour

TITLE_LOCK = 'Poste Public'
TITLE_TIMER = 'Poste Public - temps restant'
TITLE_NOTICE = 'Poste Public - message'
TITLE_MAINTENANCE = 'Poste Public - maintenance'
CHARTER_TITLE = "Charte d'utilisation des postes publics"

BG, FG, MUTED, ERROR = '#1d3557', '#f1faee', '#a8c5da', '#ffb4a2'
FIELD_BG, BUTTON_BG, BUTTON_FG = '#f1faee', '#a8dadc', '#1d3557'
SOON, VERY_SOON = '#b85c00', '#a4161a'      # countdown background under 5 and 1 minute
NOTICE_BG, NOTICE_FG = '#f4a261', '#1d1d1d'
FAMILY = 'DejaVu Sans'


class Screen:
    def __init__(self, runtime, config):
        self.runtime = runtime
        self.config = config
        self.gate = AdminGate(config.admin_secret_hash, runtime.state.clock)
        self.maintenance = False
        self._mode = None
        self._notice = None
        self._feedback = None
        self._waiting = False
        self._last_raise = 0.0
        self._charter = None

        self.root = tk.Tk(className='poste-public-kiosk')
        self.root.title(TITLE_LOCK)
        self.root.configure(bg=BG)
        self.root.protocol('WM_DELETE_WINDOW', _ignore)
        width, height = self.root.winfo_screenwidth(), self.root.winfo_screenheight()
        self._screen_size = (width, height)
        self.unit = max(10, height // 45)
        if config.fullscreen:
            # The explicit geometry covers the screen even without a window manager.
            self.root.geometry('{}x{}+0+0'.format(width, height))
            self.root.attributes('-fullscreen', True)
            self.root.attributes('-topmost', True)
        else:
            self.root.geometry('{}x{}'.format(min(width, 1000), min(height, 700)))
        self._build_lock()
        self._build_timer(width)
        self._build_notice(width)
        self._build_maintenance()

    def run(self):
        self.runtime.idle = system_idle()
        for sequence in ('<Key>', '<Motion>', '<ButtonPress>'):   # our own windows' input, at least
            self.root.bind_all(sequence, lambda event: self.runtime.activity(), add='+')
        self.runtime.start()
        if not self.gate.enabled:
            log.info('admin escape disabled: no admin_secret_hash configured')
        self._poll()
        self.root.mainloop()
        self.runtime.stop()

    # ---- building

    def _font(self, scale, weight='normal'):
        return (FAMILY, int(self.unit * scale), weight)

    def _button(self, parent, text, command, scale=1.0):
        return tk.Button(parent, text=text, command=command, font=self._font(scale, 'bold'),
                         bg=BUTTON_BG, fg=BUTTON_FG, activebackground=FG, relief='flat',
                         padx=self.unit, pady=self.unit // 3, cursor='hand2')

    def _build_lock(self):
        center = tk.Frame(self.root, bg=BG)
        center.place(relx=0.5, rely=0.45, anchor='center')
        self.library_label = tk.Label(center, text=self.config.library_name, font=self._font(2.2, 'bold'),
                                      bg=BG, fg=FG, wraplength=self.root.winfo_screenwidth() * 0.8)
        self.library_label.pack(pady=(0, self.unit))
        self.welcome = tk.Label(center, text='Bienvenue !', font=self._font(1.4), bg=BG, fg=MUTED)
        self.welcome.pack()
        self.paused_label = tk.Label(center, font=self._font(1.3, 'bold'), bg=BG, fg=NOTICE_BG)

        self.code_frame = tk.Frame(center, bg=BG)
        self.code_frame.pack(pady=self.unit * 2)
        self.feedback = tk.Label(self.code_frame, font=self._font(1.3), bg=BG, fg=FG)
        self.feedback.pack(pady=self.unit)
        self.code_var = tk.StringVar()
        self.code_var.trace_add('write', self._clean_code)
        self.code_entry = tk.Entry(self.code_frame, textvariable=self.code_var, width=8,
                                   justify='center', font=(FAMILY, int(self.unit * 2.6), 'bold'),
                                   bg=FIELD_BG, fg=BG, relief='flat', disabledbackground=MUTED)
        self.code_entry.pack(pady=self.unit // 2, ipady=self.unit // 3)
        self.code_entry.bind('<Return>', lambda event: self._submit_code())
        self.code_button = self._button(self.code_frame, 'Valider', self._submit_code, 1.3)
        self.code_button.pack(pady=self.unit)

        # The charter to accept before the session starts (in place of the code entry).
        self.charter_frame = tk.Frame(center, bg=BG)
        self.charter_title = tk.Label(self.charter_frame, font=self._font(1.3, 'bold'), bg=BG, fg=FG)
        self.charter_title.pack(pady=(0, self.unit // 2))
        self.charter_text = tk.Text(self.charter_frame, wrap='word', width=60, height=12, font=self._font(0.9),
                                    bg=FIELD_BG, fg=BG, relief='flat', padx=self.unit // 2, pady=self.unit // 2)
        self.charter_text.pack(pady=self.unit // 2)
        charter_buttons = tk.Frame(self.charter_frame, bg=BG)
        charter_buttons.pack(pady=self.unit // 2)
        self.charter_accept = self._button(charter_buttons, "J'accepte", self._accept_charter, 1.2)
        self.charter_accept.pack(side='left', padx=self.unit // 2)
        self._button(charter_buttons, 'Je refuse', self._decline_charter, 1.2).pack(side='left', padx=self.unit // 2)

        self.admin_frame = tk.Frame(center, bg=BG)
        tk.Label(self.admin_frame, text='Accès maintenance', font=self._font(1.3, 'bold'), bg=BG,
                 fg=FG).pack(pady=self.unit)
        self.admin_var = tk.StringVar()
        self.admin_entry = tk.Entry(self.admin_frame, textvariable=self.admin_var, show='•',
                                    width=16, justify='center', font=self._font(1.5), bg=FIELD_BG,
                                    fg=BG, relief='flat')
        self.admin_entry.pack(pady=self.unit // 2)
        self.admin_entry.bind('<Return>', lambda event: self._try_admin())
        self.admin_entry.bind('<Escape>', lambda event: self._close_admin())
        self.admin_message = tk.Label(self.admin_frame, font=self._font(1), bg=BG, fg=ERROR)
        self.admin_message.pack(pady=self.unit // 2)
        buttons = tk.Frame(self.admin_frame, bg=BG)
        buttons.pack()
        self._button(buttons, 'Valider', self._try_admin).pack(side='left', padx=self.unit // 2)
        self._button(buttons, 'Annuler', self._close_admin).pack(side='left', padx=self.unit // 2)

        footer = tk.Frame(self.root, bg=BG)
        footer.place(relx=0.5, rely=0.94, anchor='center')
        self.link_label = tk.Label(footer, font=self._font(1), bg=BG, fg=MUTED)
        self.link_label.pack()
        self.clock_label = tk.Label(footer, font=self._font(1), bg=BG, fg=MUTED)
        self.clock_label.pack()
        self.root.bind(ADMIN_KEYS, lambda event: self._open_admin())

    def _build_timer(self, screen_width):
        self.timer = tk.Toplevel(self.root)
        self.timer.withdraw()
        self.timer.title(TITLE_TIMER)
        self.timer.overrideredirect(True)      # no close button; we move it ourselves
        self.timer.attributes('-topmost', True)
        self.timer.protocol('WM_DELETE_WINDOW', _ignore)
        self.timer_frame = tk.Frame(self.timer, bg=BG, padx=self.unit // 2, pady=self.unit // 3,
                                    highlightthickness=2, highlightbackground=MUTED)
        self.timer_frame.pack(fill='both', expand=True)
        self.timer_caption = tk.Label(self.timer_frame, text='Temps restant', font=self._font(0.7),
                                      bg=BG, fg=MUTED)
        self.timer_caption.pack()
        self.timer_label = tk.Label(self.timer_frame, font=self._font(1.8, 'bold'), bg=BG, fg=FG)
        self.timer_label.pack()
        self.timer_link = tk.Label(self.timer_frame, font=self._font(0.6), bg=BG, fg=ERROR)
        self.timer_link.pack()
        self.home_button = self._button(self.timer_frame, "Page d'accueil", self._open_home, 0.7)
        self.end_button = self._button(self.timer_frame, 'Terminer ma session', self._ask_end, 0.7)
        self.end_button.pack(pady=(self.unit // 4, 0))
        self.control_frame = tk.Frame(self.timer_frame, bg=BG)   # above the end button
        self.control_frame.pack(before=self.end_button, pady=(self.unit // 4, 0))
        self.pause_button = self._button(self.control_frame, 'Pause', self._pause, 0.6)
        self.pause_button.pack(side='left', padx=2)
        self.request_button = self._button(self.control_frame, 'Plus de temps', self._request_time, 0.6)
        self.request_button.pack(side='left', padx=2)
        self.confirm_frame = tk.Frame(self.timer_frame, bg=BG)
        tk.Label(self.confirm_frame, text='Terminer maintenant ?', font=self._font(0.7), bg=BG,
                 fg=FG).pack()
        self._button(self.confirm_frame, 'Oui, terminer', self._end_session, 0.7).pack(
            side='left', padx=2)
        self._button(self.confirm_frame, 'Non', self._cancel_end, 0.7).pack(side='left', padx=2)
        for widget in (self.timer_frame, self.timer_caption, self.timer_label, self.timer_link):
            widget.bind('<ButtonPress-1>', self._drag_start)
            widget.bind('<B1-Motion>', self._drag_move)
        self.timer.geometry('+{}+{}'.format(max(0, screen_width - self.unit * 14), self.unit))

    def _build_notice(self, width):
        self.notice_win = tk.Toplevel(self.root)
        self.notice_win.withdraw()
        self.notice_win.title(TITLE_NOTICE)
        self.notice_win.overrideredirect(True)
        self.notice_win.attributes('-topmost', True)
        frame = tk.Frame(self.notice_win, bg=NOTICE_BG, padx=self.unit * 2, pady=self.unit * 2)
        frame.pack(fill='both', expand=True)
        self.notice_label = tk.Label(frame, font=self._font(1.8, 'bold'), bg=NOTICE_BG, fg=NOTICE_FG,
                                     wraplength=width * 0.6)
        self.notice_label.pack(pady=self.unit)
        self._button(frame, "J'ai compris", self.runtime.state.dismiss_notice, 1.2).pack()
        for widget in (frame, self.notice_label):       # a tap anywhere on it closes it too
            widget.bind('<ButtonPress-1>', lambda event: self.runtime.state.dismiss_notice())

    def _build_maintenance(self):
        self.maintenance_win = tk.Toplevel(self.root)
        self.maintenance_win.withdraw()
        self.maintenance_win.title(TITLE_MAINTENANCE)
        self.maintenance_win.overrideredirect(True)
        self.maintenance_win.attributes('-topmost', True)
        frame = tk.Frame(self.maintenance_win, bg=BG, padx=self.unit, pady=self.unit // 2,
                         highlightthickness=2, highlightbackground=ERROR)
        frame.pack()
        tk.Label(frame, text='Maintenance : le poste est déverrouillé.', font=self._font(0.8),
                 bg=BG, fg=FG).pack(pady=(0, self.unit // 2))
        self._button(frame, 'Reverrouiller', self._leave_maintenance, 0.7).pack(side='left', padx=2)
        self._button(frame, 'Quitter le kiosque', self.root.destroy, 0.7).pack(side='left', padx=2)
        self.maintenance_win.geometry('+{}+{}'.format(self.unit, self.unit))

    # ---- the loop

    def _poll(self):
        try:
            self.runtime.pump()
            self._render()
        except Exception:     # one bad message or redraw must not leave the poste unlocked forever
            log.exception('kiosk loop error')
        self.root.after(POLL_MS, self._poll)

    def _render(self):
        state = self.runtime.state
        mode = 'maintenance' if self.maintenance else 'locked' if state.locked or state.paused else 'session'
        if mode != self._mode:
            self._switch(mode)
        now = time.monotonic()
        keep_on_top = now - self._last_raise >= RAISE_EVERY
        if keep_on_top:
            self._last_raise = now
        if mode == 'locked':
            self._render_lock(state, keep_on_top)
        elif mode == 'session':
            self._render_timer(state, keep_on_top)
        notice = state.notice if mode == 'session' else None
        if state.message and mode != 'maintenance':   # the desk's message, on either screen
            notice = "Message de l'accueil :\n" + state.message
        if notice != self._notice:
            self._show_notice(notice)

    def _switch(self, mode):
        log.debug('screen mode %s -> %s', self._mode, mode)
        self._mode = mode
        if mode == 'locked':
            self.timer.withdraw()
            self.maintenance_win.withdraw()
            self._close_admin()
            self.code_var.set('')
            self.root.deiconify()
            if self.config.fullscreen:
                self.root.attributes('-fullscreen', True)
            self.root.lift()
            self.code_entry.focus_force()
        elif mode == 'session':
            self.root.withdraw()
            self.maintenance_win.withdraw()
            self._cancel_end()
            self.timer.deiconify()
            self.timer.lift()
            self._open_home()
        else:
            self.root.withdraw()
            self.timer.withdraw()
            self.maintenance_win.deiconify()
            self.maintenance_win.lift()

    def _render_lock(self, state, keep_on_top):
        if self._waiting and not state.waiting_answer:
            self.code_var.set('')           # answered (refused): ready for the next try
        self._waiting = state.waiting_answer
        text, is_error = state.feedback
        if (text, is_error) != self._feedback:
            self._feedback = (text, is_error)
            self.feedback.configure(text=text, fg=ERROR if is_error else FG)
        if state.charter != self._charter:
            self._show_charter(state.charter)
        enabled = 'normal' if state.can_enter_code else 'disabled'
        if self.code_entry.cget('state') != enabled:
            self.code_entry.configure(state=enabled)
            self.code_button.configure(state=enabled)
            if enabled == 'normal' and not self.admin_frame.winfo_ismapped():
                self.code_entry.focus_force()
        self.link_label.configure(text=state.link_text or '')
        self.clock_label.configure(text=time.strftime('%H:%M'))
        paused = 'Session en pause — temps restant {}'.format(format_remaining(state.remaining())) \
            if state.paused else ''
        if self.paused_label.cget('text') != paused:
            self.paused_label.configure(text=paused)
            if paused:
                self.paused_label.pack(after=self.welcome, pady=(self.unit, 0))
            else:
                self.paused_label.pack_forget()
        name = state.library_name or self.config.library_name   # the server's word first
        if self.library_label.cget('text') != name:
            self.library_label.configure(text=name)
        if keep_on_top:
            self.root.lift()
            if self.root.focus_get() is None:     # another program took the keyboard
                (self.admin_entry if self.admin_frame.winfo_ismapped() else self.code_entry).focus_force()

    def _show_charter(self, charter):
        """The charter in place of the code entry (None: the code entry again)."""
        self._charter = charter
        if charter is None:
            self.charter_frame.pack_forget()
            if not self.admin_frame.winfo_ismapped():
                self.code_frame.pack(pady=self.unit * 2)
            return
        self._close_admin()
        self.code_frame.pack_forget()
        self.charter_title.configure(text='{} (version {})'.format(CHARTER_TITLE, charter['version']))
        self.charter_text.configure(state='normal')
        self.charter_text.delete('1.0', 'end')
        self.charter_text.insert('1.0', charter['texte'])
        self.charter_text.configure(state='disabled')     # to read, not to edit
        self.charter_frame.pack(pady=self.unit * 2)
        self.charter_accept.focus_force()

    def _accept_charter(self):
        self.runtime.accept_charter()
        self._render()

    def _decline_charter(self):
        self.runtime.decline_charter()
        self._render()

    def _render_timer(self, state, keep_on_top):
        left = state.remaining()
        self.timer_label.configure(text=format_remaining(left))
        colour = VERY_SOON if left <= 60 else SOON if left <= 300 else BG
        if self.timer_frame.cget('bg') != colour:
            for widget in (self.timer_frame, self.timer_caption, self.timer_label, self.timer_link,
                           self.confirm_frame, *self.confirm_frame.winfo_children()):
                if not isinstance(widget, tk.Button):
                    widget.configure(bg=colour)
        self.timer_link.configure(text='Hors ligne : le décompte continue' if state.link_text else '')
        requestable = 'disabled' if state.request_pending or state.link_text else 'normal'
        if self.request_button.cget('state') != requestable:
            self.request_button.configure(state=requestable)
        if bool(self._home_page()) != bool(self.home_button.winfo_manager()):
            if self._home_page():
                self.home_button.pack(before=self.end_button, pady=(self.unit // 4, 0))
            else:
                self.home_button.pack_forget()
        if keep_on_top:
            self.timer.lift()

    def _show_notice(self, notice):
        self._notice = notice
        if notice is None:
            self.notice_win.withdraw()
            return
        self.notice_label.configure(text=notice)
        self.notice_win.update_idletasks()      # measures the new text before placing the window
        width, height = self._screen_size
        self.notice_win.geometry('+{}+{}'.format(
            (width - self.notice_win.winfo_reqwidth()) // 2,
            (height - self.notice_win.winfo_reqheight()) // 3))
        self.notice_win.deiconify()
        self.notice_win.lift()

    # ---- visitor actions

    def _clean_code(self, *args):
        # Codes are upper-case letters and digits: type them any way, see them as printed.
        value = self.code_var.get()
        clean = normalise_code(value)[:8]
        if clean != value:
            self.code_var.set(clean)
            self.code_entry.icursor('end')

    def _submit_code(self):
        self.runtime.submit_code(self.code_var.get())
        self._render()

    def _home_page(self):
        page = self.runtime.state.home_page
        return self.config.home_page if page is None else page

    def _open_home(self):
        page = self._home_page()
        if page:
            log.info('opening the home page')
            webbrowser.open(page)

    def _ask_end(self):
        self.end_button.pack_forget()
        self.confirm_frame.pack(pady=(self.unit // 4, 0))

    def _cancel_end(self):
        self.confirm_frame.pack_forget()
        self.end_button.pack(pady=(self.unit // 4, 0))

    def _end_session(self):
        self.runtime.end_session()
        self._render()

    def _pause(self):
        self.runtime.pause()
        self._render()

    def _request_time(self):
        self.runtime.request_time(REQUEST_SECONDS)
        self._render()

    def _drag_start(self, event):
        self._drag_offset = (event.x_root - self.timer.winfo_x(), event.y_root - self.timer.winfo_y())

    def _drag_move(self, event):
        dx, dy = self._drag_offset
        self.timer.geometry('+{}+{}'.format(event.x_root - dx, event.y_root - dy))

    # ---- admin escape

    def _open_admin(self):
        if self._mode != 'locked' or not self.gate.enabled or self._charter is not None:
            return
        self.code_frame.pack_forget()
        self.admin_var.set('')
        self.admin_message.configure(text='')
        self.admin_frame.pack(pady=self.unit * 2)
        self.admin_entry.focus_force()

    def _close_admin(self):
        self.admin_var.set('')
        self.admin_frame.pack_forget()
        if self._charter is not None:
            return      # the charter stays in place of the code entry
        self.code_frame.pack(pady=self.unit * 2)
        self.code_entry.focus_force()

    def _try_admin(self):
        secret = self.admin_var.get()
        self.admin_var.set('')
        if self.gate.try_secret(secret):
            log.warning('admin escape: screen unlocked for maintenance')
            self.maintenance = True
            self._render()
            return
        wait = self.gate.seconds_locked()
        if wait:
            self.admin_message.configure(text="Trop d'essais : patientez {} s".format(wait))
        else:
            self.admin_message.configure(text='Code administrateur incorrect.')
        log.warning('admin escape: wrong secret')

    def _leave_maintenance(self):
        log.info('admin escape: screen locked again')
        self.maintenance = False
        self._render()


def _ignore():
    """Closing a kiosk window does nothing (Alt+F4, the window manager's close button)."""
