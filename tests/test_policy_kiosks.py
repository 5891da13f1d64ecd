"""The closing notice on both kiosks against a real server: the web page in headless Chromium and
the Tk kiosk under Xvfb. The library closes a few seconds after the session starts: the kiosk shows
the notice, its countdown never shows more than the library has left, and it locks at the closing."""
import os
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser import expect

DAYS = ('lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche')
CLOSED_TEXT = 'La bibliothèque ferme : votre session est terminée. À bientôt !'


def close_soon(server, seconds, notice):
    """Hours for today (UTC) that end `seconds` from now; returns the closing (naive UTC)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    if (midnight - now).total_seconds() < seconds + 15:
        time.sleep((midnight - now).total_seconds() + 1)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
    closing = (now + timedelta(seconds=seconds + 1)).replace(microsecond=0)
    server.api('PUT', '/api/horaires/', {'semaine': {DAYS[closing.weekday()]: [['00:00', f'{closing:%H:%M:%S}']]},
                                         'avertissement_fermeture': notice}, expect=200)
    return closing


@pytest.mark.slow
def test_the_web_kiosk_shows_the_closing_and_locks_at_it(browser, live_server):
    server = live_server(TIME_ZONE='UTC')
    poste = server.make_poste('Poste Web', '10.0.0.52')
    context = browser.new_context(locale='fr-FR')
    page = context.new_page()
    try:
        page.goto(f'{server.base_url}/kiosk/#poste=10.0.0.52&token={poste["kiosk_token"]}')
        expect(page.locator('#code')).to_be_enabled()
        closing = close_soon(server, 8, 5)
        session = server.make_session(poste['id'], duree=3600)
        page.fill('#code', session['code_acces'])
        page.click('#code-submit')
        expect(page.locator('#session')).to_be_visible()
        shown = page.locator('#remaining').inner_text()
        assert re.fullmatch(r'00:0\d', shown), shown      # capped: never the hour the code was made for
        expect(page.locator('#notice-text')).to_have_text(re.compile(
            r'^La bibliothèque ferme dans [4-6] secondes\.$'), timeout=8000)
        expect(page.locator('#lock')).to_be_visible(timeout=8000)
        expect(page.locator('#feedback')).to_have_text(CLOSED_TEXT)
        assert datetime.now(timezone.utc).replace(tzinfo=None) >= closing - timedelta(seconds=1)
    finally:
        context.close()


@pytest.mark.slow
def test_the_tk_kiosk_shows_the_closing_notice_and_locks_at_closing(live_server, tmp_path):
    from tests.kiosk_support import VirtualScreen, have_virtual_screen
    if not have_virtual_screen() and not os.environ.get('CI'):
        pytest.skip('needs Xvfb and xdotool')
    from appliance.kiosk.screen import TITLE_LOCK, TITLE_NOTICE, TITLE_TIMER
    from tests.test_kiosk_screen import Kiosk
    server = live_server(TIME_ZONE='UTC')
    screen = VirtualScreen()
    kiosk = Kiosk(server, screen, tmp_path).start()
    try:
        kiosk.wait_ready()
        closing = close_soon(server, 9, 6)
        session = kiosk.unlock(duree=3600)
        kiosk.wait_shows(TITLE_NOTICE, timeout=8, alone=False)
        assert kiosk.shows(TITLE_TIMER)
        kiosk.wait_shows(TITLE_LOCK, timeout=8)
        assert not kiosk.shows(TITLE_NOTICE)
        ended = kiosk.session(session)
        assert ended['raison_fin'] == 'fermeture_bibliotheque'
        assert ended['fin_session'] == closing.isoformat() + '+00:00'
        kiosk.process.wait_log('La bibliothèque ferme : votre session est terminée', timeout=2)
    finally:
        kiosk.stop()
        screen.stop()
