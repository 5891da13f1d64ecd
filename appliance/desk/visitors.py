"""Visitors: registering, changing and deleting them, and their photos (files under DATA_DIR/photos)."""
import os
import secrets

from appliance import audit
from appliance.db import writing
from appliance.errors import Conflict, Invalid
from appliance.models import Session, Utilisateur
from appliance.protocol import OPEN_STATUTS


def photo_kind(data):
    """'jpeg' or 'png' when the bytes really are one (not what the name or header claims)."""
    if data[:3] == b'\xff\xd8\xff' and data.rstrip(b'\x00')[-2:] == b'\xff\xd9':
        return 'jpeg'
    if data[:8] == b'\x89PNG\r\n\x1a\n' and data[12:16] == b'IHDR' and b'IEND' in data[-12:]:
        return 'png'
    return None


def check_visitor_rules(data, current=None):
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


class Visitors:
    def create_visitor(self, data, *, operateur, ip):
        check_visitor_rules(data)
        now = self.now()
        with writing():
            visitor = Utilisateur.create(**data, date_consentement=now, created_by=operateur,
                                         created_at=now, updated_at=now)
            audit.record('creation_utilisateur', now=now, operateur=operateur, utilisateur=visitor,
                         ip=ip, details=f'Visiteur {visitor.nom_complet} enregistré.')
        return visitor

    def update_visitor(self, visitor, data, *, operateur, ip):
        check_visitor_rules(data, current=visitor)
        now = self.now()
        with writing():
            changed = visitor.save_changes(data, now)
            audit.record('modification_utilisateur', now=now, operateur=operateur, utilisateur=visitor,
                         ip=ip, details=f'Visiteur {visitor.nom_complet} modifié.',
                         metadata={'champs': changed})
            self.room.reset()  # a running session shows the visitor's name
        return visitor

    def delete_visitor(self, visitor, *, operateur, ip):
        now = self.now()
        with writing():
            # Under the write lock: a code issued at the same moment cannot slip in between.
            if Session.select().where(Session.utilisateur == visitor,
                                      Session.statut.in_(OPEN_STATUTS)).exists():
                raise Conflict('Ce visiteur a une session en cours ou un code en attente : terminez-la d’abord.')
            audit.record('suppression_utilisateur', now=now, operateur=operateur, utilisateur=visitor,
                         ip=ip, details=f'Visiteur {visitor.nom_complet} supprimé.')
            photo = visitor.photo
            visitor.delete_instance()
        self._remove_photo_file(photo)

    # -- photos -----------------------------------------------------------------------------

    def photo_path(self, name):
        return os.path.join(self.config.photos_dir, os.path.basename(name))

    def set_photo(self, visitor, data, kind, *, operateur, ip):
        """Store `data` (checked by photo_kind as `kind`) as the visitor's photo."""
        os.makedirs(self.config.photos_dir, mode=0o700, exist_ok=True)
        name = f'{visitor.id}-{secrets.token_hex(8)}.{"jpg" if kind == "jpeg" else "png"}'
        with open(self.photo_path(name), 'wb') as f:
            f.write(data)
        self._replace_photo(visitor, name, operateur, ip, f'Photo de {visitor.nom_complet} enregistrée.')

    def remove_photo(self, visitor, *, operateur, ip):
        self._replace_photo(visitor, None, operateur, ip, f'Photo de {visitor.nom_complet} supprimée.')

    def _replace_photo(self, visitor, name, operateur, ip, details):
        """Point the visitor at photo file `name` (or none), then delete the previous file."""
        old = visitor.photo
        now = self.now()
        with writing():
            visitor.photo = name
            visitor.updated_at = now
            visitor.save(only=[Utilisateur.photo, Utilisateur.updated_at])
            audit.record('modification_utilisateur', now=now, operateur=operateur, utilisateur=visitor,
                         ip=ip, details=details)
        self._remove_photo_file(old)

    def _remove_photo_file(self, name):
        if name:
            try:
                os.remove(self.photo_path(name))
            except FileNotFoundError:
                pass
