"""Screenshots of the dashboard's main screens for README.md, written to docs/screenshots/.

Not part of the ordinary run: `DASHBOARD_SCREENSHOTS=1 .venv/bin/python -m pytest
tests/test_dashboard_screenshots.py` (on SQLite). A month of past sessions is written straight into
the database while the server is stopped, then a live room is played with simulated kiosks.
"""
import json
import os
import random
import socket
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from tests.live import kiosk, recv_action

if not os.environ.get('DASHBOARD_SCREENSHOTS'):
    pytest.skip('set DASHBOARD_SCREENSHOTS=1 to write docs/screenshots/', allow_module_level=True)
from tests.browser import CHROMIUM, CHROMIUM_ARGS, expect, sync_playwright  # noqa: E402
from tests.test_dashboard import PASSWORD, log_in  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'docs', 'screenshots')
POSTES = [('Poste 1', 'Salle multimédia'), ('Poste 2', 'Salle multimédia'), ('Poste 3', 'Salle multimédia'),
          ('Poste 4', 'Salle multimédia'), ('Poste 5', 'Espace jeunesse'), ('Poste 6', 'Espace jeunesse'),
          ('Poste 7', 'Hall'), ('Poste 8', 'Hall')]
VISITORS = [('Martin', 'Alice'), ('Bernard', 'Lucas'), ('Dubois', 'Chloé'), ('Thomas', 'Hugo'),
            ('Robert', 'Emma'), ('Petit', 'Louis'), ('Durand', 'Léa'), ('Leroy', 'Gabriel'),
            ('Moreau', 'Jade'), ('Simon', 'Arthur'), ('Laurent', 'Inès'), ('Lefebvre', 'Jules'),
            ('Michel', 'Manon'), ('Garcia', 'Raphaël'), ('David', 'Camille'), ('Bertrand', 'Nathan')]
# Opening hours: Tuesday to Saturday, busiest on Wednesday and Saturday afternoons.
OPEN = {1: (10, 18), 2: (10, 18), 3: (10, 18), 4: (10, 18), 5: (10, 17)}


def ascii_only(text):
    return unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()


def past_sessions(postes, visitors, now):
    rng = random.Random(5)
    rows = []
    for days_ago in range(30, 0, -1):
        day = (now - timedelta(days=days_ago)).date()
        if day.weekday() not in OPEN:
            continue
        first, last = OPEN[day.weekday()]
        busy = 1.6 if day.weekday() in (2, 5) else 1.0
        for poste in postes:
            moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=first, minutes=rng.randint(0, 50))
            while True:
                length = rng.choice([1800, 3600, 3600, 5400, 7200])
                used = min(length, int(length * rng.uniform(0.5, 1.0)))
                end = moment + timedelta(seconds=used)
                if end.hour >= last:
                    break
                if rng.random() < 0.55 * busy * (1.3 if moment.hour >= 14 else 0.8):
                    rows.append((poste['id'], rng.choice(visitors)['id'], length, moment, end,
                                 'expiree' if used == length else 'terminee',
                                 'expiration' if used == length else rng.choice(['fermeture_utilisateur', 'fermeture_staff'])))
                    moment = end + timedelta(minutes=rng.randint(2, 30))
                else:
                    moment += timedelta(minutes=rng.randint(20, 60))
    return rows


def test_screenshots(live):
    os.makedirs(OUT, exist_ok=True)
    live.api('POST', '/api/comptes/', {'username': 'claire', 'password': PASSWORD, 'role': 'admin'}, expect=201)
    # Loopback addresses of their own, so that each simulated kiosk connects from its poste's address
    # (a kiosk connecting from elsewhere is flagged on its tile).
    postes = [live.api('POST', '/api/postes/', {'nom': nom, 'ip_address': f'127.0.0.{11 + i}', 'emplacement': where,
                                                'mac_address': f'00:1b:21:3a:4c:{11 + i:02x}'},
                       expect=201) for i, (nom, where) in enumerate(POSTES)]
    live.api('PUT', '/api/bibliotheque/', {'nom': 'Médiathèque Jules Verne'}, expect=200)
    visitors = [live.api('POST', '/api/utilisateurs/', {
        'nom': nom, 'prenom': prenom, 'email': ascii_only(f'{prenom.lower()}.{nom.lower()}@exemple.fr'),
        'telephone': f'06 12 34 {i:02d} {i * 7 % 100:02d}', 'consentement_rgpd': True,
        'type_piece_identite': 'cni', 'piece_identite_verifiee': True}, expect=201)
        for i, (nom, prenom) in enumerate(VISITORS)]

    live.stop()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for poste_id, visitor_id, length, start, end, statut, raison in past_sessions(postes, visitors, now):
        live.execute_sql(
            'INSERT INTO poste_session (code_acces, utilisateur_id, poste_id, duree_initiale, temps_ajoute, '
            'debut_session, fin_session, statut, raison_fin, operateur, notes, avertissements, created_at) '
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 'accueil', '', '', ?)",
            ('HIST00', visitor_id, poste_id, length, str(start), str(end), statut, raison,
             str(start - timedelta(minutes=2))))
    live.start()

    # The room now: kiosks online except Poste 8, four sessions running, a code waiting, one poste in repair.
    sockets = [kiosk(live, p, socket=socket.create_connection(('127.0.0.1', live.port),
                                                              source_address=(p['ip_address'], 0)))[0]
               for p in postes[:7]]
    for poste, visitor, duree in [(0, 0, 3600), (1, 1, 1800), (3, 2, 7200), (4, 3, 240), (6, 4, 5400)]:
        session = live.api('POST', '/api/sessions/', {'utilisateur': visitors[visitor]['id'],
                                                      'poste': postes[poste]['id'], 'duree_initiale': duree}, expect=201)
        sockets[poste].send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
        recv_action(sockets[poste], 'session_started')
    live.api('POST', '/api/sessions/', {'utilisateur': visitors[5]['id'], 'poste': postes[2]['id'],
                                        'duree_initiale': 3600}, expect=201)
    live.api('PUT', f'/api/postes/{postes[5]["id"]}/status/', {'statut': 'maintenance'}, expect=200)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             env={**os.environ, 'LANG': 'fr_FR.UTF-8', 'LANGUAGE': 'fr'})
        page = browser.new_page(locale='fr-FR', timezone_id='UTC', viewport={'width': 1366, 'height': 768})
        log_in(page, live, 'claire')
        expect(page.locator('.tile')).to_have_count(8)
        expect(page.locator('#live')).to_have_text('En direct')
        page.mouse.move(0, 700)
        page.screenshot(path=os.path.join(OUT, 'salle.png'))

        page.click('nav a[href="#/nouvelle-session"]')
        page.fill('input[type=search]', 'gar')
        page.click(f'button[data-visitor="{visitors[13]["id"]}"]')
        page.select_option('select[name=poste]', str(postes[7]['id']))
        page.click('label.choice:has-text("2 h")')
        page.click('text=Générer le code')
        expect(page.locator('#code-acces')).to_be_visible()
        page.screenshot(path=os.path.join(OUT, 'nouvelle-session.png'))

        page.click('nav a[href="#/visiteurs"]')
        page.fill('#visitor-search', 'martin')
        expect(page.locator('.visitor-list li')).to_have_count(1)
        page.click(f'a[data-visitor="{visitors[0]["id"]}"]')
        expect(page.locator('.detail table')).to_be_visible()
        page.mouse.move(0, 700)
        page.screenshot(path=os.path.join(OUT, 'visiteurs.png'))

        page.click('nav a[href="#/journal"]')
        expect(page.locator('table.log tbody tr').first).to_be_visible()
        page.screenshot(path=os.path.join(OUT, 'journal.png'))

        page.click('nav a[href="#/statistiques"]')
        expect(page.locator('svg.chart')).to_have_count(4)
        page.screenshot(path=os.path.join(OUT, 'statistiques.png'), full_page=True)

        page.click('nav a[href="#/postes"]')
        page.click(f'tr[data-poste="{postes[7]["id"]}"] button:has-text("Configurer le kiosque")')
        page.click('dialog [data-confirm=yes]')
        page.fill('#kiosk-server', 'http://192.168.1.10:8000')
        expect(page.locator('#kiosk-setup-title')).to_be_visible()
        page.screenshot(path=os.path.join(OUT, 'postes.png'), full_page=True)

        tablet = browser.new_page(locale='fr-FR', timezone_id='UTC', viewport={'width': 820, 'height': 1180},
                                  device_scale_factor=1, has_touch=True)
        log_in(tablet, live, 'claire')
        expect(tablet.locator('.tile')).to_have_count(8)
        tablet.screenshot(path=os.path.join(OUT, 'salle-tablette.png'))
        browser.close()
    for ws in sockets:
        ws.close()
