"""Visitors over REST: fields, validation, search, consent, photo, deletion (docs/api.md)."""
import os
import struct
import zlib

import pytest

from tests.support import log_actions

BOUNDARY = 'poste-public-test-boundary'


def png_bytes(padding=0):
    """A real 1x1 PNG; `padding` bytes of a private ancillary chunk make it as big as needed."""
    def chunk(kind, data):
        return struct.pack('!I', len(data)) + kind + data + struct.pack('!I', zlib.crc32(kind + data))
    raw = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('!IIBBBBB', 1, 1, 8, 2, 0, 0, 0))
    if padding:
        raw += chunk(b'prVt', b'\x00' * padding)
    return raw + chunk(b'IDAT', zlib.compress(b'\x00\xff\x00\x00')) + chunk(b'IEND', b'')


def jpeg_bytes():
    return (b'\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
            b'\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\xd2\xcf\x20\xff\xd9')


def multipart(files, boundary=BOUNDARY):
    """(body, content_type) of a multipart/form-data request; files: name -> (filename, type, bytes)."""
    parts = []
    for name, (filename, ctype, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode() + data + b'\r\n')
    return b''.join(parts) + f'--{boundary}--\r\n'.encode(), f'multipart/form-data; boundary={boundary}'


def upload(client, token, uid, data, filename='photo.png', ctype='image/png', field='photo'):
    body, content_type = multipart({field: (filename, ctype, data)})
    return client.request('POST', f'/api/utilisateurs/{uid}/photo/', body=body,
                          content_type=content_type, token=token)


def photo_files(ctx):
    directory = ctx.config.photos_dir
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


FULL = {
    'nom': 'Durand', 'prenom': 'Éloïse', 'email': 'Eloise.Durand@Example.org', 'telephone': '0601020304',
    'date_naissance': '1990-04-12', 'adresse': '3 rue des Lilas, Lyon', 'type_piece_identite': 'passeport',
    'piece_identite_verifiee': True, 'numero_piece_identite': 'P123456', 'consentement_rgpd': True,
    'notes': 'Préfère le poste près de la fenêtre.',
}


# -- creation -------------------------------------------------------------------------------------

def test_create_returns_every_field(client, ctx, staff, staff_token):
    response = client.post('/api/utilisateurs/', FULL, token=staff_token)
    assert response.status == 201, response
    u = response.json
    assert set(u) == {'id', 'nom', 'prenom', 'email', 'telephone', 'date_naissance', 'adresse',
                      'type_piece_identite', 'piece_identite_verifiee', 'numero_piece_identite',
                      'consentement_rgpd', 'date_consentement', 'photo', 'is_guest', 'notes', 'created_by',
                      'nombre_sessions_total', 'derniere_session', 'created_at', 'updated_at',
                      'categorie', 'autorisation_parentale', 'charte_version', 'anonymise_le'}
    assert u['nom'] == 'Durand' and u['prenom'] == 'Éloïse'
    assert u['email'] == 'eloise.durand@example.org'   # normalised
    assert u['date_naissance'] == '1990-04-12'
    assert u['type_piece_identite'] == 'passeport' and u['piece_identite_verifiee'] is True
    assert u['consentement_rgpd'] is True
    assert u['date_consentement'] == '2026-01-05T09:00:00+00:00'   # the server's clock, with offset
    assert u['created_at'] == u['updated_at'] == '2026-01-05T09:00:00+00:00'
    assert u['photo'] is None and u['is_guest'] is False
    assert u['created_by'] == staff.id
    assert u['nombre_sessions_total'] == 0 and u['derniere_session'] is None
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json == u
    assert log_actions(action='creation_utilisateur', utilisateur=u['id']) == ['creation_utilisateur']


def test_create_log_entry_names_the_visitor_and_operator(client, staff_token):
    u = client.make_visitor(staff_token, nom='Petit', prenom='Jean')
    entry = client.get('/api/logs/?action=creation_utilisateur', token=staff_token).json['results'][0]
    assert entry['utilisateur'] == u['id'] and entry['utilisateur_nom'] == 'Jean Petit'
    assert entry['operateur'] == 'bibliothecaire'
    assert entry['ip_address'] == '127.0.0.1'


def test_read_only_fields_are_ignored_on_create(client, staff_token):
    response = client.post('/api/utilisateurs/', {
        'nom': 'Ruse', 'prenom': 'Renard', 'telephone': '0102030405', 'consentement_rgpd': True,
        'date_consentement': '2000-01-01T00:00:00+00:00', 'is_guest': True, 'photo': '../../etc/passwd',
        'created_by': 999, 'nombre_sessions_total': 42, 'derniere_session': '2020-01-01T00:00:00Z',
        'id': 12345, 'created_at': '2000-01-01T00:00:00+00:00'}, token=staff_token)
    assert response.status == 201, response
    u = response.json
    assert u['id'] != 12345
    assert u['date_consentement'] == '2026-01-05T09:00:00+00:00'
    assert u['is_guest'] is False and u['photo'] is None and u['nombre_sessions_total'] == 0
    assert u['derniere_session'] is None and u['created_by'] != 999
    assert u['created_at'] == '2026-01-05T09:00:00+00:00'


def test_telephone_alone_is_enough(client, staff_token):
    response = client.post('/api/utilisateurs/', {'nom': 'Sans', 'prenom': 'Mail', 'telephone': '0612345678',
                                                  'consentement_rgpd': True}, token=staff_token)
    assert response.status == 201
    assert response.json['email'] == '' and response.json['telephone'] == '0612345678'


@pytest.mark.parametrize('extra', [{}, {'email': '', 'telephone': ''}, {'email': '  ', 'telephone': ' '}])
def test_email_or_telephone_is_required(client, staff_token, extra):
    response = client.post('/api/utilisateurs/', {'nom': 'Sans', 'prenom': 'Contact', 'consentement_rgpd': True,
                                                  **extra}, token=staff_token)
    assert response.status == 400
    assert set(response.json['errors']) == {'email', 'telephone'}
    assert log_actions(action='creation_utilisateur') == []


def test_required_fields_are_reported_together(client, staff_token):
    response = client.post('/api/utilisateurs/', {}, token=staff_token)
    assert response.status == 400
    assert response.json['detail']
    assert {'nom', 'prenom', 'consentement_rgpd'} <= set(response.json['errors'])
    assert response.json['errors']['nom'] == ['Ce champ est obligatoire.']


@pytest.mark.parametrize('consent', [False, None, 'true', 1])
def test_consent_must_be_true_on_create(client, staff_token, consent):
    response = client.post('/api/utilisateurs/', {'nom': 'Non', 'prenom': 'Consenti', 'email': 'n@example.org',
                                                  'consentement_rgpd': consent}, token=staff_token)
    assert response.status == 400
    assert list(response.json['errors']) == ['consentement_rgpd']


@pytest.mark.parametrize('field, value', [
    ('nom', ''), ('nom', '   '), ('nom', 123), ('nom', 'x' * 101), ('prenom', None), ('prenom', ['a']),
    ('email', 'pas-une-adresse'), ('email', 'a@b'), ('email', 42),
    ('telephone', 'x' * 31), ('date_naissance', '12/04/1990'), ('date_naissance', '2990-01-01'),
    ('date_naissance', '1850-01-01'), ('date_naissance', 19900412), ('type_piece_identite', 'carte_vitale'),
    ('type_piece_identite', ['cni']), ('piece_identite_verifiee', 'oui'), ('piece_identite_verifiee', None),
    ('numero_piece_identite', 'x' * 51), ('adresse', 'x' * 501), ('notes', 'a\x00b'),
])
def test_invalid_field_is_400_for_that_field(client, staff_token, field, value):
    data = {'nom': 'Valide', 'prenom': 'Presque', 'email': 'v@example.org', 'consentement_rgpd': True,
            field: value}
    response = client.post('/api/utilisateurs/', data, token=staff_token)
    assert response.status == 400, response
    assert field in response.json['errors']
    assert all(isinstance(m, str) and m for m in response.json['errors'][field])


def test_nullable_fields_accept_null(client, staff_token):
    visitor = client.make_visitor(staff_token, date_naissance=None, type_piece_identite=None)
    assert visitor['date_naissance'] is None and visitor['type_piece_identite'] is None


# -- reading, listing, searching ---------------------------------------------------------------

def test_get_unknown_is_404(client, staff_token):
    for path in ('/api/utilisateurs/999999/', '/api/utilisateurs/0/',
                 '/api/utilisateurs/99999999999999999999999/'):
        response = client.get(path, token=staff_token)
        assert response.status == 404, path
        assert response.json['detail'] == 'Visiteur introuvable.'
    response = client.get('/api/utilisateurs/abc/', token=staff_token)   # not an id: no route
    assert response.status == 404 and response.json['detail']


def test_list_is_paginated_and_sorted_by_name(client, staff_token):
    client.make_visitor(staff_token, nom='Zola', prenom='Emile')
    client.make_visitor(staff_token, nom='Agnès', prenom='Varda')
    client.make_visitor(staff_token, nom='Balzac', prenom='Honoré')
    page = client.get('/api/utilisateurs/', token=staff_token).json
    assert page['count'] == 3 and page['next'] is None and page['previous'] is None
    assert [u['nom'] for u in page['results']] == ['Agnès', 'Balzac', 'Zola']


@pytest.fixture
def crowd(client, staff_token):
    client.make_visitor(staff_token, nom='Martin', prenom='Alice', email='alice@example.org')
    client.make_visitor(staff_token, nom='Bernard', prenom='Martine', email='mb@example.org')
    client.make_visitor(staff_token, nom='Dupont', prenom='Jean', email='jd@mairie.fr', telephone='0611223344')
    client.make_visitor(staff_token, nom='Leroy', prenom='Lina', email='l_100%@example.org')


@pytest.mark.parametrize('search, expected', [
    ('martin', ['Bernard', 'Martin']),          # nom and prenom, case-insensitive
    ('MAIRIE', ['Dupont']),                     # email
    ('112233', ['Dupont']),                     # telephone
    ('alice martin', ['Martin']),               # every word must match
    ('  jean  ', ['Dupont']),
    ('%', ['Leroy']),                           # LIKE wildcards are plain characters
    ('_', ['Leroy']),
    ('personne', []),
    ('', ['Bernard', 'Dupont', 'Leroy', 'Martin']),
])
def test_search(client, staff_token, crowd, search, expected):
    response = client.get('/api/utilisateurs/', query={'search': search}, token=staff_token)
    assert response.status == 200
    assert [u['nom'] for u in response.json['results']] == expected
    assert response.json['count'] == len(expected)


def test_search_with_accents_and_next_link(client, staff_token):
    for prenom in ('Éloïse', 'Zoé'):
        client.make_visitor(staff_token, nom='Hérault', prenom=prenom, email=f'{len(prenom)}@example.org')
    first = client.get('/api/utilisateurs/?search=H%C3%A9rault&page_size=1', token=staff_token)
    assert first.status == 200 and first.json['count'] == 2
    nxt = first.json['next']
    assert nxt.startswith('http://testserver/api/utilisateurs/?')
    assert 'search=H%C3%A9rault' in nxt and 'page=2' in nxt and 'page_size=1' in nxt
    second = client.get(nxt.replace('http://testserver', ''), token=staff_token)
    assert second.status == 200
    assert second.json['count'] == 2
    assert {first.json['results'][0]['prenom'], second.json['results'][0]['prenom']} == {'Éloïse', 'Zoé'}
    assert second.json['previous'] is not None and second.json['next'] is None


# -- modification -------------------------------------------------------------------------------

def test_patch_changes_only_given_fields(client, ctx, staff_token):
    u = client.make_visitor(staff_token, telephone='0600000000')
    ctx.clock.advance(600)
    response = client.patch(f'/api/utilisateurs/{u["id"]}/', {'notes': 'Habitué', 'adresse': 'Ici'},
                            token=staff_token)
    assert response.status == 200, response
    changed = response.json
    assert changed['notes'] == 'Habitué' and changed['adresse'] == 'Ici'
    assert changed['nom'] == u['nom'] and changed['email'] == u['email'] and changed['telephone'] == '0600000000'
    assert changed['created_at'] == u['created_at']
    assert changed['date_consentement'] == u['date_consentement']
    assert changed['updated_at'] == '2026-01-05T09:10:00+00:00'
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json == changed
    entries = client.get(f'/api/logs/?action=modification_utilisateur&utilisateur={u["id"]}',
                         token=staff_token).json['results']
    assert len(entries) == 1
    assert entries[0]['metadata'] == {'champs': ['adresse', 'notes']}


def test_patch_cannot_leave_the_visitor_unreachable(client, staff_token):
    u = client.make_visitor(staff_token)   # email only
    response = client.patch(f'/api/utilisateurs/{u["id"]}/', {'email': ''}, token=staff_token)
    assert response.status == 400
    assert set(response.json['errors']) == {'email', 'telephone'}
    # Swapping e-mail for telephone in one request is fine.
    ok = client.patch(f'/api/utilisateurs/{u["id"]}/', {'email': '', 'telephone': '0700000000'},
                      token=staff_token)
    assert ok.status == 200 and ok.json['email'] == '' and ok.json['telephone'] == '0700000000'


def test_consent_cannot_be_withdrawn_by_update(client, staff_token):
    u = client.make_visitor(staff_token)
    response = client.patch(f'/api/utilisateurs/{u["id"]}/', {'consentement_rgpd': False}, token=staff_token)
    assert response.status == 400
    assert 'consentement_rgpd' in response.json['errors']
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json['consentement_rgpd'] is True
    assert log_actions(action='modification_utilisateur') == []


def test_read_only_fields_are_ignored_on_patch(client, ctx, staff_token):
    u = client.make_visitor(staff_token)
    response = client.patch(f'/api/utilisateurs/{u["id"]}/', {
        'date_consentement': '2001-01-01T00:00:00+00:00', 'is_guest': True, 'nombre_sessions_total': 7,
        'photo': 'x.png', 'created_at': '2001-01-01T00:00:00+00:00'}, token=staff_token)
    assert response.status == 200
    for field in ('date_consentement', 'is_guest', 'nombre_sessions_total', 'photo', 'created_at'):
        assert response.json[field] == u[field], field


def test_put_needs_the_required_fields(client, staff_token):
    u = client.make_visitor(staff_token)
    response = client.put(f'/api/utilisateurs/{u["id"]}/', {'notes': 'x'}, token=staff_token)
    assert response.status == 400
    assert {'nom', 'prenom', 'consentement_rgpd'} <= set(response.json['errors'])
    full = client.put(f'/api/utilisateurs/{u["id"]}/', {**FULL, 'nom': 'Nouveau'}, token=staff_token)
    assert full.status == 200
    assert full.json['nom'] == 'Nouveau' and full.json['numero_piece_identite'] == 'P123456'
    assert log_actions(action='modification_utilisateur') == ['modification_utilisateur']


def test_update_unknown_visitor_is_404(client, staff_token):
    assert client.patch('/api/utilisateurs/424242/', {'notes': 'x'}, token=staff_token).status == 404
    assert client.put('/api/utilisateurs/424242/', FULL, token=staff_token).status == 404


# -- deletion ----------------------------------------------------------------------------------

def test_delete_is_admin_only(client, staff_token, admin_token):
    u = client.make_visitor(staff_token)
    forbidden = client.delete(f'/api/utilisateurs/{u["id"]}/', token=staff_token)
    assert forbidden.status == 403
    assert forbidden.json['detail'] == 'Action réservée aux administrateurs.'
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).status == 200
    response = client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token)
    assert response.status == 204 and response.body == b''
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).status == 404
    assert client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token).status == 404
    assert log_actions(action='suppression_utilisateur', utilisateur=u['id']) == ['suppression_utilisateur']


def test_delete_keeps_the_name_in_the_log(client, admin_token):
    u = client.make_visitor(admin_token, nom='Oublié', prenom='Paul')
    client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token)
    entries = client.get(f'/api/logs/?utilisateur={u["id"]}', token=admin_token).json['results']
    assert [e['action'] for e in entries] == ['suppression_utilisateur', 'creation_utilisateur']
    assert {e['utilisateur_nom'] for e in entries} == {'Paul Oublié'}


def test_delete_with_an_open_session_is_409(client, admin_token):
    poste = client.make_poste(admin_token)
    u = client.make_visitor(admin_token)
    session = client.make_session(admin_token, u['id'], poste['id'])
    waiting = client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token)
    assert waiting.status == 409
    assert 'session' in waiting.json['detail']
    assert client.kiosk_validate(poste['kiosk_token'], session['code_acces']).status == 200
    active = client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token)
    assert active.status == 409
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=admin_token).status == 200
    assert log_actions(action='suppression_utilisateur') == []
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=admin_token)
    assert client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token).status == 204
    # The ended session outlives its visitor.
    kept = client.get(f'/api/sessions/{session["id"]}/', token=admin_token)
    assert kept.status == 200 and kept.json['utilisateur'] is None and kept.json['statut'] == 'terminee'


def test_session_counters_follow_sessions(client, ctx, admin_token):
    poste = client.make_poste(admin_token)
    u = client.make_visitor(admin_token)
    session = client.make_session(admin_token, u['id'], poste['id'])
    ctx.clock.advance(10)
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    after = client.get(f'/api/utilisateurs/{u["id"]}/', token=admin_token).json
    assert after['nombre_sessions_total'] == 1
    assert after['derniere_session'] == '2026-01-05T09:00:10+00:00'


# -- photo --------------------------------------------------------------------------------------

def test_photo_png_upload_get_delete(client, ctx, staff_token):
    u = client.make_visitor(staff_token)
    image = png_bytes()
    response = upload(client, staff_token, u['id'], image)
    assert response.status == 200, response
    assert response.json['photo'] == f'/api/utilisateurs/{u["id"]}/photo/'
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json['photo'] == response.json['photo']
    got = client.get(response.json['photo'], token=staff_token)
    assert got.status == 200
    assert got.body == image
    assert got.headers['Content-Type'].startswith('image/png')
    assert 'no-store' in got.headers['Cache-Control']
    assert len(photo_files(ctx)) == 1
    deleted = client.delete(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token)
    assert deleted.status == 204
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json['photo'] is None
    gone = client.get(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token)
    assert gone.status == 404 and gone.json['detail'] == 'Ce visiteur n’a pas de photo.'
    assert client.delete(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token).status == 404
    assert photo_files(ctx) == []
    assert log_actions(action='modification_utilisateur') == ['modification_utilisateur'] * 2


def test_photo_jpeg_replaces_the_old_one(client, ctx, staff_token):
    u = client.make_visitor(staff_token)
    assert upload(client, staff_token, u['id'], png_bytes()).status == 200
    # The declared name and type do not matter: the content does.
    response = upload(client, staff_token, u['id'], jpeg_bytes(), filename='x.png', ctype='image/png')
    assert response.status == 200, response
    got = client.get(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token)
    assert got.body == jpeg_bytes() and got.headers['Content-Type'].startswith('image/jpeg')
    assert len(photo_files(ctx)) == 1 and photo_files(ctx)[0].endswith('.jpg')


def test_photo_is_for_staff_only(client, staff_token):
    u = client.make_visitor(staff_token)
    upload(client, staff_token, u['id'], png_bytes())
    anonymous = client.get(f'/api/utilisateurs/{u["id"]}/photo/')
    assert anonymous.status == 401 and anonymous.body != png_bytes() and 'detail' in anonymous.json
    assert upload(client, None, u['id'], png_bytes()).status == 401
    assert client.delete(f'/api/utilisateurs/{u["id"]}/photo/').status == 401


@pytest.mark.parametrize('data', [
    b'GIF89a\x01\x00\x01\x00\x00\x00\x00;',
    b'<?php echo 1; ?>',
    b'',
    png_bytes()[:40],                          # no IEND: truncated
    b'\x89PNG\r\n\x1a\n' + b'\x00' * 30,        # signature only
    b'\xff\xd8\xff\xe0' + b'\x00' * 20,         # JPEG start, no end
], ids=['gif', 'script', 'empty', 'truncated-png', 'fake-png', 'truncated-jpeg'])
def test_photo_must_really_be_jpeg_or_png(client, ctx, staff_token, data):
    u = client.make_visitor(staff_token)
    response = upload(client, staff_token, u['id'], data, filename='photo.jpg', ctype='image/jpeg')
    assert response.status == 400
    assert 'photo' in response.json['errors']
    assert photo_files(ctx) == []
    assert client.get(f'/api/utilisateurs/{u["id"]}/', token=staff_token).json['photo'] is None


def test_photo_needs_the_photo_field(client, staff_token):
    u = client.make_visitor(staff_token)
    response = upload(client, staff_token, u['id'], png_bytes(), field='image')
    assert response.status == 400 and 'photo' in response.json['errors']


def test_photo_needs_multipart(client, staff_token):
    u = client.make_visitor(staff_token)
    as_json = client.post(f'/api/utilisateurs/{u["id"]}/photo/', {'photo': 'data:image/png;base64,AAAA'},
                          token=staff_token)
    assert as_json.status == 415 and 'multipart' in as_json.json['detail']
    raw = client.request('POST', f'/api/utilisateurs/{u["id"]}/photo/', body=png_bytes(),
                         content_type='image/png', token=staff_token)
    assert raw.status == 415


@pytest.mark.parametrize('body', [
    b'this is not multipart at all',
    b'--other-boundary\r\nContent-Disposition: form-data; name="photo"\r\n\r\nxx\r\n--other-boundary--\r\n',
    b'--' + BOUNDARY.encode() + b'\r\nno headers end',
], ids=['garbage', 'wrong-boundary', 'unterminated'])
def test_malformed_multipart_is_400(client, staff_token, body):
    u = client.make_visitor(staff_token)
    response = client.request('POST', f'/api/utilisateurs/{u["id"]}/photo/', body=body,
                              content_type=f'multipart/form-data; boundary={BOUNDARY}', token=staff_token)
    assert response.status == 400, response
    assert response.json['detail']


def test_multipart_without_boundary_is_400(client, staff_token):
    u = client.make_visitor(staff_token)
    body, _ = multipart({'photo': ('p.png', 'image/png', png_bytes())})
    response = client.request('POST', f'/api/utilisateurs/{u["id"]}/photo/', body=body,
                              content_type='multipart/form-data', token=staff_token)
    assert response.status == 400, response
    assert response.json['detail']


def test_photo_of_exactly_5_mib_is_accepted(client, staff_token):
    u = client.make_visitor(staff_token)
    image = png_bytes()
    image = png_bytes(padding=5 * 1024 * 1024 - len(image) - 12)
    assert len(image) == 5 * 1024 * 1024
    response = upload(client, staff_token, u['id'], image)
    assert response.status == 200, response
    assert client.get(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token).body == image


@pytest.mark.parametrize('size', [5 * 1024 * 1024 + 1, 8 * 1024 * 1024])
def test_photo_over_5_mib_is_413(client, ctx, staff_token, size):
    u = client.make_visitor(staff_token)
    image = png_bytes()
    image = png_bytes(padding=size - len(image) - 12)
    assert len(image) == size
    response = upload(client, staff_token, u['id'], image)
    assert response.status == 413
    assert '5 Mio' in response.json['detail']
    assert photo_files(ctx) == []


def test_photo_of_unknown_visitor_is_404(client, staff_token):
    assert upload(client, staff_token, 987654, png_bytes()).status == 404
    assert client.get('/api/utilisateurs/987654/photo/', token=staff_token).status == 404
    assert client.delete('/api/utilisateurs/987654/photo/', token=staff_token).status == 404


def test_photo_file_lost_on_disk_is_404_not_500(client, ctx, staff_token):
    u = client.make_visitor(staff_token)
    upload(client, staff_token, u['id'], png_bytes())
    for name in photo_files(ctx):
        os.remove(os.path.join(ctx.config.photos_dir, name))
    response = client.get(f'/api/utilisateurs/{u["id"]}/photo/', token=staff_token)
    assert response.status == 404 and response.json['detail']


def test_deleting_the_visitor_removes_the_photo_file(client, ctx, admin_token):
    u = client.make_visitor(admin_token)
    upload(client, admin_token, u['id'], png_bytes())
    assert len(photo_files(ctx)) == 1
    assert client.delete(f'/api/utilisateurs/{u["id"]}/', token=admin_token).status == 204
    assert photo_files(ctx) == []


def test_search_that_is_not_utf8_is_not_a_500(client, staff_token, crowd):
    response = client.get('/api/utilisateurs/?search=%FF%FE&page_size=1', token=staff_token)
    assert response.status in (200, 400), response
    assert 'results' in response.json or 'detail' in response.json


def test_deletion_racing_a_new_code_leaves_no_orphan_session(client, admin_token):
    """A code issued while the visitor is being deleted: one of the two requests must lose."""
    import gevent
    for i in range(5):
        u = client.make_visitor(admin_token, nom=f'Course{i}', email=f'course{i}@example.org')
        jobs = [gevent.spawn(client.post, '/api/sessions/', {'utilisateur': u['id'], 'duree_initiale': 600},
                             token=admin_token),
                gevent.spawn(client.delete, f'/api/utilisateurs/{u["id"]}/', token=admin_token)]
        gevent.joinall(jobs, raise_error=True)
        created, deleted = jobs[0].value, jobs[1].value
        assert (created.status, deleted.status) in ((201, 409), (400, 204), (409, 204)), (created, deleted)
    orphans = client.get('/api/sessions/?statut=en_attente', token=admin_token).json['results']
    assert [s for s in orphans if s['utilisateur'] is None] == []
