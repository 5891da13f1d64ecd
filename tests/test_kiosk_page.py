"""The kiosk web page (/kiosk/) in real headless Chromium against a real server."""
import json
import os
import re

import pytest

from tests.browser import expect
from tests.kiosk_support import wait_until

POSTE_IP = '10.0.0.51'
STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'static', 'kiosk')


@pytest.fixture
def poste(live):
    return live.make_poste('Poste Web', POSTE_IP)


@pytest.fixture
def page(browser, live, poste):
    """The kiosk page, configured through its URL fragment, online."""
    context = browser.new_context(locale='fr-FR')
    page = context.new_page()
    page.goto('{}/kiosk/#poste={}&token={}&bibliotheque=M%C3%A9diath%C3%A8que%20Web'.format(
        live.base_url, POSTE_IP, poste['kiosk_token']))
    expect(page.locator('#code')).to_be_enabled()
    yield page
    context.close()


def start_session(live, poste, page, duree=1800):
    session = live.make_session(poste['id'], duree=duree)
    page.fill('#code', session['code_acces'].lower())
    page.click('#code-submit')
    expect(page.locator('#session')).to_be_visible()
    return session


def session_state(live, session):
    return live.api('GET', '/api/sessions/{}/'.format(session['id']), expect=200)


def test_page_and_assets_are_served_with_nothing_from_outside(live):
    names = sorted(os.listdir(STATIC))
    assert {'index.html', 'main.js', 'state.js', 'protocol.js', 'texts.js', 'kiosk.css'} <= set(names)
    for path in ['/kiosk/'] + ['/static/kiosk/' + name for name in names]:
        status, body = live.request('GET', path)
        assert status == 200, path
    for name in names:
        with open(os.path.join(STATIC, name), encoding='utf-8') as f:
            text = f.read()
        assert not re.search(r'https?://|//cdn|@import', text), name


def test_the_fragment_configures_the_page_and_leaves_the_address(page, live):
    assert page.url == live.base_url + '/kiosk/'
    settings = json.loads(page.evaluate("localStorage.getItem('poste-public-kiosk')"))
    assert settings['poste'] == POSTE_IP
    expect(page.locator('#library')).to_have_text('Médiathèque Web')
    expect(page.locator('#feedback')).to_have_text("Entrez le code remis à l'accueil")
    expect(page.locator('#link')).to_have_text('')


def test_a_wrong_code_then_a_good_one(page, live, poste):
    page.fill('#code', 'zzz999')
    page.press('#code', 'Enter')
    expect(page.locator('#feedback')).to_have_text('Code inconnu ou expiré.')
    expect(page.locator('#feedback')).to_have_class('error')
    expect(page.locator('#code')).to_have_value('')             # ready for the next try
    page.fill('#code', 'zzz998')
    page.press('#code', 'Enter')
    expect(page.locator('#code')).to_have_value('')             # again, with the same message
    session = start_session(live, poste, page)
    expect(page.locator('#remaining')).to_have_text(re.compile(r'^(30:00|29:5\d)$'))
    assert session_state(live, session)['statut'] == 'active'
    kept = json.loads(page.evaluate("localStorage.getItem('poste-public-kiosk-session')"))
    assert kept['code'] == session['code_acces']


def test_add_time_and_staff_termination(page, live, poste):
    session = start_session(live, poste, page, duree=600)
    live.api('POST', '/api/sessions/{}/add-time/'.format(session['id']), {'minutes': 10}, expect=200)
    expect(page.locator('#notice-text')).to_have_text('Temps ajouté : 10 minutes.')
    expect(page.locator('#remaining')).to_have_text(re.compile(r'^(20:00|19:5\d)$'))
    page.click('#notice-ok')
    expect(page.locator('#notice')).to_be_hidden()
    live.api('POST', '/api/sessions/{}/terminate/'.format(session['id']), {}, expect=200)
    expect(page.locator('#lock')).to_be_visible(timeout=1000)
    expect(page.locator('#feedback')).to_have_text("Votre session a été fermée par l'accueil.")
    assert page.evaluate("localStorage.getItem('poste-public-kiosk-session')") is None


def test_end_my_session(page, live, poste):
    session = start_session(live, poste, page)
    page.click('#end')
    expect(page.locator('#end-yes')).to_be_visible()
    page.click('#end-yes')
    expect(page.locator('#lock')).to_be_visible()
    ended = wait_until(lambda: session_state(live, session)['statut'] == 'terminee'
                       and session_state(live, session), 5, message='session ended')
    assert ended['raison_fin'] == 'fermeture_utilisateur'


def test_a_reloaded_page_resumes_its_session(page, live, poste):
    session = start_session(live, poste, page)
    page.reload()
    expect(page.locator('#session')).to_be_visible()
    expect(page.locator('#offline')).to_have_text('')        # online again
    expect(page.locator('#remaining')).to_have_text(re.compile(r'^(30:00|29:[45]\d)$'))
    assert session_state(live, session)['statut'] == 'active'


def test_a_kept_session_past_its_end_is_dropped_with_the_end_message(page):
    page.evaluate("""localStorage.setItem('poste-public-kiosk-session',
                                          JSON.stringify({code: 'ABC234', deadline: Date.now() - 5000}))""")
    page.reload()
    expect(page.locator('#feedback')).to_have_text('Votre session est terminée. Merci de votre visite !')
    expect(page.locator('#lock')).to_be_visible()
    assert page.evaluate("localStorage.getItem('poste-public-kiosk-session')") is None


def test_server_gone_the_countdown_goes_on_and_locks_at_zero(browser, live, poste):
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    try:
        page.goto('{}/kiosk/#poste={}&token={}'.format(live.base_url, POSTE_IP, poste['kiosk_token']))
        expect(page.locator('#code')).to_be_enabled()
        start_session(live, poste, page, duree=60)
        live.stop()
        expect(page.locator('#offline')).to_have_text('Hors ligne : le décompte continue')
        page.clock.fast_forward('00:40')
        expect(page.locator('#remaining')).to_have_text(re.compile(r'^00:(19|20)$'))
        assert page.locator('#session').is_visible()
        page.clock.fast_forward('00:21')
        expect(page.locator('#lock')).to_be_visible()
        expect(page.locator('#feedback')).to_have_text(
            'Votre session est terminée. Merci de votre visite !')
    finally:
        context.close()


def test_a_refused_poste_says_why(browser, live, poste):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto('{}/kiosk/#poste={}&token=faux'.format(live.base_url, POSTE_IP))
        expect(page.locator('#link')).to_have_text(
            "Ce poste n'est pas autorisé par le serveur : prévenez l'accueil.")
        expect(page.locator('#code')).to_be_disabled()
    finally:
        context.close()


def test_an_unconfigured_page_says_how_to_configure_it(browser, live):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(live.base_url + '/kiosk/')
        expect(page.locator('#feedback')).to_contain_text("Ce terminal n'est pas configuré")
    finally:
        context.close()


def test_only_the_kiosk_page_may_frame_another_site(client):
    """The library's home page (its catalogue) lives on another site: the kiosk page may show it in
    a frame; the dashboard frames nothing."""
    kiosk_policy = client.get('/kiosk/').headers['Content-Security-Policy']
    assert 'frame-src http: https:' in kiosk_policy and "frame-ancestors 'none'" in kiosk_policy
    assert 'frame-src' not in client.get('/').headers['Content-Security-Policy']
