"""The charter at the kiosk, on both kiosks against a real server: the Tk kiosk on a virtual screen
(Xvfb, xdotool), the web kiosk in headless Chromium. Required once, then remembered."""
import os
import sys

import pytest

from tests.kiosk_support import KioskProcess, VirtualScreen, have_virtual_screen, wait_until, write_config
from appliance.kiosk.screen import TITLE_LOCK, TITLE_TIMER

CHARTE = 'Article 1 : je respecte le matériel et les autres usagers.'


def new_session(server, poste, visitor=None):
    if visitor is None:
        return server.make_session(poste['id'], duree=900)
    return server.api('POST', '/api/sessions/', {'utilisateur': visitor, 'poste': poste['id'],
                                                 'duree_initiale': 900}, expect=201)


@pytest.mark.skipif(not have_virtual_screen() and not os.environ.get('CI'),
                    reason='needs Xvfb and xdotool (apt-get install xvfb xdotool)')
def test_the_tk_kiosk_shows_the_charter_then_remembers_it(live, tmp_path):
    live.api('PUT', '/api/charte/', {'texte': CHARTE}, expect=200)
    poste = live.make_poste('Poste Charte', '10.0.0.51')
    config = write_config(str(tmp_path / 'kiosk.ini'), live.base_url, '10.0.0.51', poste['kiosk_token'],
                          str(tmp_path / 'session.json'), str(tmp_path / 'end.log'))
    screen = VirtualScreen()
    process = KioskProcess([sys.executable, '-m', 'appliance', 'kiosk', '--config', config],
                           str(tmp_path / 'kiosk.log'), env={'DISPLAY': screen.display})
    try:
        process.wait_log('| online', timeout=15)
        session = new_session(live, poste)
        screen.type(session['code_acces'])
        screen.key('Return')
        process.wait_log('screen: charter version 1 to accept')
        assert screen.window(TITLE_LOCK) and not screen.window(TITLE_TIMER)   # still locked
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'en_attente'
        screen.key('space')                     # « J'accepte » has the focus
        wait_until(lambda: screen.window(TITLE_TIMER), 5, message='countdown')
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'active'
        live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
        wait_until(lambda: screen.window(TITLE_LOCK) and not screen.window(TITLE_TIMER), 5, message='locked')
        again = new_session(live, poste, visitor=session['utilisateur'])
        screen.type(again['code_acces'])
        screen.key('Return')
        wait_until(lambda: screen.window(TITLE_TIMER), 5, message='countdown without the charter')
        assert process.log().count('charter version 1 to accept') == 1
    finally:
        process.stop()
        screen.stop()
    accepted = [e for e in live.api('GET', '/api/logs/?action=acceptation_charte')['results']]
    assert len(accepted) == 1 and accepted[0]['poste'] == poste['id']


def test_the_web_kiosk_shows_the_charter_then_remembers_it(live, browser, tmp_path):
    from tests.browser import expect
    live.api('PUT', '/api/charte/', {'texte': CHARTE}, expect=200)
    poste = live.make_poste('Poste Web', '10.0.0.52')
    context = browser.new_context(viewport={'width': 1366, 'height': 768})
    try:
        page = context.new_page()
        page.goto(f'{live.base_url}/kiosk/#poste={poste["ip_address"]}&token={poste["kiosk_token"]}')
        expect(page.locator('#code')).to_be_enabled()
        session = new_session(live, poste)
        page.fill('#code', session['code_acces'])
        page.keyboard.press('Enter')
        expect(page.locator('#charter')).to_be_visible()
        expect(page.locator('#charter-text')).to_have_text(CHARTE)
        expect(page.locator('#charter-title')).to_contain_text('version 1')
        page.screenshot(path=str(tmp_path / 'kiosk-charter.png'))
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'en_attente'
        page.click('#charter-accept')
        expect(page.locator('#charter')).to_be_hidden()
        wait_until(lambda: live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'active', 5,
                   message='session started')
        live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
        expect(page.locator('#code')).to_be_enabled()
        again = new_session(live, poste, visitor=session['utilisateur'])
        page.fill('#code', again['code_acces'])
        page.keyboard.press('Enter')
        wait_until(lambda: live.api('GET', f'/api/sessions/{again["id"]}/')['statut'] == 'active', 5,
                   message='started without the charter')
        expect(page.locator('#charter')).to_be_hidden()
        # Declining leaves the poste locked.
        live.api('POST', f'/api/sessions/{again["id"]}/terminate/', {}, expect=200)
        live.api('PUT', '/api/charte/', {'texte': CHARTE + ' Version 2.'}, expect=200)
        expect(page.locator('#code')).to_be_enabled()
        third = new_session(live, poste, visitor=session['utilisateur'])
        page.fill('#code', third['code_acces'])
        page.keyboard.press('Enter')
        expect(page.locator('#charter-title')).to_contain_text('version 2')
        page.click('#charter-decline')
        expect(page.locator('#feedback')).to_contain_text('Charte refusée')
        assert live.api('GET', f'/api/sessions/{third["id"]}/')['statut'] == 'en_attente'
    finally:
        context.close()
