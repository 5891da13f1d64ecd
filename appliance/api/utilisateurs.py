"""Visitors (docs/api.md), with their photo served to staff only."""
import os

import bottle
from bottle import request

from appliance.api.http import (body, client_ip, created, get_or_404, no_content, require_admin,
                                require_staff)
from appliance.api.pagination import paginate
from appliance.api.validation import Boolean, Choice, Date, Email, Text, validate
from appliance.desk.visitors import photo_kind
from appliance.errors import Invalid, NotFound, TooLarge, UnsupportedMediaType
from appliance.models import PIECES_IDENTITE, Utilisateur
from appliance.serializers import utilisateur_json

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


def routes(app, ctx):
    desk = ctx.desk

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
        return created(utilisateur_json(desk.create_visitor(data, operateur=compte, ip=client_ip())))

    @app.get('/api/utilisateurs/<uid>/')
    def show_utilisateur(uid):
        require_staff(ctx)
        return utilisateur_json(get_utilisateur(uid))

    @app.route('/api/utilisateurs/<uid>/', method=['PUT', 'PATCH'])
    def update_utilisateur(uid):
        compte = require_staff(ctx)
        u = get_utilisateur(uid)
        data = validate(body(), SCHEMA, partial=request.method == 'PATCH')
        return utilisateur_json(desk.update_visitor(u, data, operateur=compte, ip=client_ip()))

    @app.delete('/api/utilisateurs/<uid>/')
    def delete_utilisateur(uid):
        compte = require_admin(ctx)
        desk.delete_visitor(get_utilisateur(uid), operateur=compte, ip=client_ip())
        return no_content()

    # -- photo ----------------------------------------------------------------------------

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
        desk.set_photo(u, data, kind, operateur=compte, ip=client_ip())
        return utilisateur_json(u)

    @app.get('/api/utilisateurs/<uid>/photo/')
    def get_photo(uid):
        require_staff(ctx)
        u = get_utilisateur(uid)
        if not u.photo or not os.path.exists(desk.photo_path(u.photo)):
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
        desk.remove_photo(u, operateur=compte, ip=client_ip())
        return no_content()
