"""Visitors (docs/api.md), with their photo served to staff only."""
import os

import bottle
from bottle import request

from appliance.api.declared import ADMIN, STAFF, Query, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate
from appliance.api.validation import Boolean, Choice, Date, Email, Reference, Text, echoing
from appliance.api.categories import CategorieRef
from appliance.desk.visitors import photo_kind
from appliance.errors import Conflict, Invalid, NotFound, TooLarge, UnsupportedMediaType
from appliance.models import PIECES_IDENTITE, Utilisateur
from appliance.search import matching
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
    'consentement_rgpd': Boolean(required=True, only_true='Le consentement RGPD est obligatoire.',
                                 description='Doit être vrai : le visiteur accepte le traitement de ses données.'),
    'notes': Text(2000),
    'doublon_confirme': Boolean(description='Vrai : enregistrer même si le visiteur ressemble à une fiche '
                                            'existante (sinon 409 avec les fiches semblables, `doublons`).'),
    'autorisation_parentale': Boolean(description='Les parents d’un mineur de moins de AGE_CONSENTEMENT '
                                                  'ans (15) ont donné leur accord : sans elle, pas de session.'),
}
SCHEMA = echoing(SCHEMA, 'id', 'date_consentement', 'photo', 'is_guest', 'created_by', 'nombre_sessions_total',
                 'derniere_session', 'created_at', 'updated_at')
SCHEMA['categorie'] = CategorieRef(null=True, description='La catégorie du visiteur (null : celle par défaut).')
MERGE = {'doublon': Reference(Utilisateur, required=True,
                              description='La fiche en double, fusionnée dans celle du chemin puis supprimée.')}
UTILISATEUR = Row(Utilisateur, 'Visiteur introuvable.')
SEARCH = Query('search', {'type': 'string'},
               'Mots cherchés dans le nom, le prénom, l’e-mail et le téléphone (100 caractères lus au plus).')


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/utilisateurs/', auth=STAFF, query=(SEARCH, *PAGINATION), summary='Liste des visiteurs')
    def list_utilisateurs():
        query = Utilisateur.select().order_by(Utilisateur.nom, Utilisateur.prenom, Utilisateur.id)
        search = (request.query.getunicode('search') or '').strip()[:100]
        condition = matching(Utilisateur, search)   # accents and case ignored, by an index (search.py)
        if condition is not None:
            query = query.where(condition)
        return paginate(query, lambda rows: [utilisateur_json(u) for u in rows])

    @app.post('/api/utilisateurs/', auth=STAFF, body=SCHEMA, status=201, summary='Enregistrer un visiteur')
    def create_utilisateur(compte, data):
        if not data.pop('doublon_confirme', False):
            similar = desk.similar_visitors(data)
            if similar:
                names = ', '.join(f'{v.nom_complet} (fiche n° {v.id})' for v in similar)
                raise Conflict(f'Ce visiteur ressemble à une fiche existante : {names}. Ouvrez-la, ou envoyez '
                               '"doublon_confirme": true pour enregistrer une nouvelle fiche quand même.',
                               body={'doublons': [utilisateur_json(v) for v in similar]})
        return utilisateur_json(desk.create_visitor(data, operateur=compte, ip=client_ip()))

    @app.get('/api/utilisateurs/<uid:re:[0-9]+>/', auth=STAFF, wildcards={'uid': UTILISATEUR}, summary='Détail d’un visiteur')
    def show_utilisateur(u):
        return utilisateur_json(u)

    @app.put('/api/utilisateurs/<uid:re:[0-9]+>/', auth=STAFF, wildcards={'uid': UTILISATEUR}, body=SCHEMA,
             summary='Modifier un visiteur')
    @app.patch('/api/utilisateurs/<uid:re:[0-9]+>/', auth=STAFF, wildcards={'uid': UTILISATEUR}, body=SCHEMA,
               summary='Modifier un visiteur (partiel)')
    def update_utilisateur(u, compte, data):
        data.pop('doublon_confirme', None)   # a question for new records only
        return utilisateur_json(desk.update_visitor(u, data, operateur=compte, ip=client_ip()))

    @app.delete('/api/utilisateurs/<uid:re:[0-9]+>/', auth=ADMIN, wildcards={'uid': UTILISATEUR}, status=204,
                summary='Supprimer un visiteur')
    def delete_utilisateur(u, compte):
        desk.delete_visitor(u, operateur=compte, ip=client_ip())

    @app.post('/api/utilisateurs/<uid:re:[0-9]+>/fusionner/', auth=ADMIN, wildcards={'uid': UTILISATEUR}, body=MERGE,
              summary='Fusionner une fiche en double dans celle-ci (sessions reprises, doublon supprimé)')
    def merge_utilisateur(u, compte, data):
        return utilisateur_json(desk.merge_visitors(u, data['doublon'], operateur=compte, ip=client_ip()))

    # -- photo ----------------------------------------------------------------------------

    @app.post('/api/utilisateurs/<uid:re:[0-9]+>/photo/', auth=STAFF, wildcards={'uid': UTILISATEUR},
              summary='Envoyer la photo (multipart, champ photo ; JPEG ou PNG, 5 Mio au plus)')
    def upload_photo(u, compte):
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

    @app.get('/api/utilisateurs/<uid:re:[0-9]+>/photo/', auth=STAFF, wildcards={'uid': UTILISATEUR}, summary='Lire la photo')
    def get_photo(u):
        if not u.photo or not os.path.exists(desk.photo_path(u.photo)):
            raise NotFound(NO_PHOTO)
        mimetype = 'image/png' if u.photo.endswith('.png') else 'image/jpeg'
        photo = bottle.static_file(os.path.basename(u.photo), root=ctx.config.photos_dir, mimetype=mimetype)
        # static_file answers with its own response object: the header must be set on it.
        photo.set_header('Cache-Control', 'private, no-store')
        return photo

    @app.delete('/api/utilisateurs/<uid:re:[0-9]+>/photo/', auth=STAFF, wildcards={'uid': UTILISATEUR}, status=204,
                summary='Supprimer la photo')
    def delete_photo(u, compte):
        if not u.photo:
            raise NotFound(NO_PHOTO)
        desk.remove_photo(u, operateur=compte, ip=client_ip())
