"""Visitors (CONTRACT §3 "Utilisateurs"), with their photo served to staff only."""
import os
import secrets

import bottle
from bottle import request

from appliance import audit
from appliance.api.http import (body, client_ip, created, get_or_404, no_content, require_admin,
                                require_staff)
from appliance.api.pagination import paginate
from appliance.api.validation import Boolean, Choice, Date, Email, Text, validate
from appliance.clock import iso
from appliance.db import writing
from appliance.errors import Conflict, Invalid, NotFound, TooLarge, UnsupportedMediaType
from appliance.models import OPEN_STATUTS, PIECES_IDENTITE, Session, Utilisateur

MAX_PHOTO_BYTES = 5 * 1024 * 1024
NO_PHOTO = 'Ce visiteur n’a pas de photo.'

SCHEMA = {
    'nom': Text(100, blank=False, required=True),
    'prenom': Text(100, blank=False, required=True),
    'email': Email(),
    'telephone': Text(30),
    'date_naissance': Date(null=True),
    'adresse': Text(500),
    'type_piece_identite': Choice(PIECES_IDENTITE, null=True),
    'piece_identite_verifiee': Boolean(),
    'numero_piece_identite': Text(50),
    'consentement_rgpd': Boolean(required=True,
                                 description='Doit être vrai : le visiteur accepte le traitement de ses données.'),
    'notes': Text(2000),
}


def photo_kind(data):
    """'jpeg' or 'png' when the bytes really are one (not what the name or header claims)."""
    if data[:3] == b'\xff\xd8\xff' and data.rstrip(b'\x00')[-2:] == b'\xff\xd9':
        return 'jpeg'
    if data[:8] == b'\x89PNG\r\n\x1a\n' and data[12:16] == b'IHDR' and b'IEND' in data[-12:]:
        return 'png'
    return None


def utilisateur_json(u):
    return {
        'id': u.id, 'nom': u.nom, 'prenom': u.prenom, 'email': u.email, 'telephone': u.telephone,
        'date_naissance': u.date_naissance.isoformat() if u.date_naissance else None,
        'adresse': u.adresse, 'type_piece_identite': u.type_piece_identite,
        'piece_identite_verifiee': u.piece_identite_verifiee,
        'numero_piece_identite': u.numero_piece_identite,
        'consentement_rgpd': u.consentement_rgpd, 'date_consentement': iso(u.date_consentement),
        'photo': f'/api/utilisateurs/{u.id}/photo/' if u.photo else None,
        'is_guest': u.is_guest, 'notes': u.notes, 'created_by': u.created_by_id,
        'nombre_sessions_total': u.nombre_sessions_total, 'derniere_session': iso(u.derniere_session),
        'created_at': iso(u.created_at), 'updated_at': iso(u.updated_at),
    }


def check_rules(data, current=None):
    """Rules across fields: a way to reach the visitor, and consent that stays given."""
    email = data.get('email', current.email if current else '')
    telephone = data.get('telephone', current.telephone if current else '')
    errors = {}
    if not email and not telephone:
        errors['email'] = ['Indiquez un e-mail ou un numéro de téléphone.']
        errors['telephone'] = ['Indiquez un e-mail ou un numéro de téléphone.']
    if 'consentement_rgpd' in data and not data['consentement_rgpd']:
        errors['consentement_rgpd'] = [
            'Le consentement RGPD est obligatoire.' if current is None else
            'Le consentement ne peut pas être retiré ici : supprimez plutôt le visiteur.']
    if errors:
        raise Invalid(errors)


def routes(app, ctx):
    def get_utilisateur(uid):
        return get_or_404(Utilisateur, uid, 'Visiteur introuvable.')

    @app.get('/api/utilisateurs/')
    def list_utilisateurs():
        require_staff(ctx)
        query = Utilisateur.select().order_by(Utilisateur.nom, Utilisateur.prenom, Utilisateur.id)
        search = (request.query.getunicode('search') or '').strip()[:100]
        for word in search.split():
            query = query.where(Utilisateur.nom.contains(word) | Utilisateur.prenom.contains(word) |
                                Utilisateur.email.contains(word) | Utilisateur.telephone.contains(word))
        return paginate(query, lambda rows: [utilisateur_json(u) for u in rows])

    @app.post('/api/utilisateurs/')
    def create_utilisateur():
        compte = require_staff(ctx)
        data = validate(body(), SCHEMA)
        check_rules(data)
        now = ctx.clock.now()
        with writing():
            u = Utilisateur.create(**data, date_consentement=now, created_by=compte, created_at=now,
                                   updated_at=now)
            audit.record('creation_utilisateur', now=now, operateur=compte, utilisateur=u,
                         ip=client_ip(), details=f'Visiteur {u.nom_complet} enregistré.')
        return created(utilisateur_json(u))

    @app.get('/api/utilisateurs/<uid>/')
    def show_utilisateur(uid):
        require_staff(ctx)
        return utilisateur_json(get_utilisateur(uid))

    @app.route('/api/utilisateurs/<uid>/', method=['PUT', 'PATCH'])
    def update_utilisateur(uid):
        compte = require_staff(ctx)
        u = get_utilisateur(uid)
        data = validate(body(), SCHEMA, partial=request.method == 'PATCH')
        check_rules(data, current=u)
        now = ctx.clock.now()
        with writing():
            changed = u.save_changes(data, now)
            audit.record('modification_utilisateur', now=now, operateur=compte, utilisateur=u,
                         ip=client_ip(), details=f'Visiteur {u.nom_complet} modifié.',
                         metadata={'champs': changed})
            ctx.desk.room.reset()  # a running session shows the visitor's name
        return utilisateur_json(u)

    @app.delete('/api/utilisateurs/<uid>/')
    def delete_utilisateur(uid):
        compte = require_admin(ctx)
        u = get_utilisateur(uid)
        now = ctx.clock.now()
        with writing():
            # Under the write lock: a code issued at the same moment cannot slip in between.
            if Session.select().where(Session.utilisateur == u, Session.statut.in_(OPEN_STATUTS)).exists():
                raise Conflict('Ce visiteur a une session en cours ou un code en attente : terminez-la d’abord.')
            audit.record('suppression_utilisateur', now=now, operateur=compte, utilisateur=u,
                         ip=client_ip(), details=f'Visiteur {u.nom_complet} supprimé.')
            photo = u.photo
            u.delete_instance()
        remove_photo_file(photo)
        return no_content()

    # -- photo ----------------------------------------------------------------------------

    def photo_path(name):
        return os.path.join(ctx.config.photos_dir, os.path.basename(name))

    def remove_photo_file(name):
        if name:
            try:
                os.remove(photo_path(name))
            except FileNotFoundError:
                pass

    def replace_photo(u, name, compte, details):
        """Point the visitor at photo file `name` (or none), then delete the previous file."""
        old = u.photo
        now = ctx.clock.now()
        with writing():
            u.photo = name
            u.updated_at = now
            u.save(only=[Utilisateur.photo, Utilisateur.updated_at])
            audit.record('modification_utilisateur', now=now, operateur=compte, utilisateur=u,
                         ip=client_ip(), details=details)
        remove_photo_file(old)

    @app.post('/api/utilisateurs/<uid>/photo/')
    def upload_photo(uid):
        compte = require_staff(ctx)
        u = get_utilisateur(uid)
        if request.content_length > MAX_PHOTO_BYTES + 64 * 1024:
            raise TooLarge('Photo trop volumineuse (5 Mio au plus).')
        if not request.content_type.lower().startswith('multipart/form-data'):
            raise UnsupportedMediaType('Envoyez la photo en multipart/form-data, champ « photo ».')
        upload = request.files.get('photo')
        if upload is None:
            raise Invalid({'photo': ['Aucun fichier « photo » reçu.']})
        data = upload.file.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge('Photo trop volumineuse (5 Mio au plus).')
        kind = photo_kind(data)
        if kind is None:
            raise Invalid({'photo': ['Le fichier doit être une image JPEG ou PNG.']})
        os.makedirs(ctx.config.photos_dir, mode=0o700, exist_ok=True)
        name = f'{u.id}-{secrets.token_hex(8)}.{"jpg" if kind == "jpeg" else "png"}'
        with open(photo_path(name), 'wb') as f:
            f.write(data)
        replace_photo(u, name, compte, f'Photo de {u.nom_complet} enregistrée.')
        return utilisateur_json(u)

    @app.get('/api/utilisateurs/<uid>/photo/')
    def get_photo(uid):
        require_staff(ctx)
        u = get_utilisateur(uid)
        if not u.photo or not os.path.exists(photo_path(u.photo)):
            raise NotFound(NO_PHOTO)
        mimetype = 'image/png' if u.photo.endswith('.png') else 'image/jpeg'
        photo = bottle.static_file(os.path.basename(u.photo), root=ctx.config.photos_dir, mimetype=mimetype)
        # static_file answers with its own response object: the header must be set on it.
        photo.set_header('Cache-Control', 'private, no-store')
        return photo

    @app.delete('/api/utilisateurs/<uid>/photo/')
    def delete_photo(uid):
        compte = require_staff(ctx)
        u = get_utilisateur(uid)
        if not u.photo:
            raise NotFound(NO_PHOTO)
        replace_photo(u, None, compte, f'Photo de {u.nom_complet} supprimée.')
        return no_content()
