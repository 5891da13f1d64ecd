"""The public computers: creating, changing and deleting them, their status, their kiosk tokens."""
import hashlib
import hmac
import secrets

from appliance import audit, events
from appliance.db import writing
from appliance.errors import Conflict, Invalid
from appliance.models import Poste, Session
from appliance.protocol import EN_ATTENTE, OCCUPE, STAFF_POSTE_STATUTS, TERMINEE, Reason


def hash_token(token):
    # Kiosk tokens are 256-bit random strings: a plain SHA-256 is enough to keep them unreadable.
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class Postes:
    def create_poste(self, fields, *, operateur, ip):
        """Returns (poste, kiosk_token); the token is shown this once and stored hashed."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with writing():
            poste = Poste.create(**fields, kiosk_token_hash=hash_token(token), created_at=now,
                                 updated_at=now)
            audit.record('creation_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} créé ({poste.ip_address}).')
            self._poste_changed(poste)
        return poste, token

    def update_poste(self, poste, fields, *, operateur, ip):
        """Change name, addresses or location (never the status: see set_poste_status)."""
        now = self.now()
        with writing():
            changed = poste.save_changes(fields, now)
            if changed:
                audit.record('modification_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                             details=f'Poste {poste.nom} modifié ({", ".join(changed)}).')
            self._poste_changed(poste)
        return poste

    def delete_poste(self, poste, *, operateur, ip):
        now = self.now()
        with writing():
            if self._running_on(poste) is not None:
                raise Conflict('Une session est en cours sur ce poste : terminez-la avant de le supprimer.')
            # Codes waiting for this poste can no longer be used on it.
            for waiting in Session.select().where(Session.poste == poste, Session.statut == EN_ATTENTE):
                self._end(waiting, TERMINEE, Reason.POSTE_DELETED, now, operateur=operateur, ip=ip,
                          details=f'Code annulé : le poste {poste.nom} a été supprimé.')
            audit.record('suppression_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} supprimé.')
            poste_id = poste.id
            poste.delete_instance()
            self.room.changed(poste_id)
            self.last_seen.pop(poste_id, None)
            events.publish(events.POSTE_CHANGED, poste_id=poste_id, deleted=True)

    def issue_kiosk_token(self, poste, *, operateur, ip):
        """A new kiosk token for `poste`; the old one stops working at once."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with writing():
            poste.kiosk_token_hash = hash_token(token)
            poste.updated_at = now
            poste.save(only=[Poste.kiosk_token_hash, Poste.updated_at])
            audit.record('jeton_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Nouveau jeton de kiosque pour {poste.nom}.')
            events.publish(events.KIOSK_TOKEN_CHANGED, poste_id=poste.id)
        return token

    def poste_for_token(self, token):
        if not token or len(token) > 200:
            return None
        poste = Poste.get_or_none(Poste.kiosk_token_hash == hash_token(token))
        if poste is not None and hmac.compare_digest(poste.kiosk_token_hash, hash_token(token)):
            return poste
        return None

    def poste_for_address(self, address):
        return Poste.get_or_none(Poste.ip_address == address) if address else None

    def set_poste_status(self, poste, statut, *, force=False, operateur, ip):
        if statut == OCCUPE:
            raise Invalid({'statut': ["Le statut « occupe » est fixé par le système quand une session démarre."]})
        if statut not in STAFF_POSTE_STATUTS:
            raise Invalid({'statut': [f'Statut inconnu : choisissez parmi {", ".join(STAFF_POSTE_STATUTS)}.']})
        now = self.now()
        with writing():
            running = self._running_on(poste)
            if running is not None:
                if not force:
                    raise Conflict('Une session est en cours sur ce poste. Envoyez "force": true '
                                   'pour la terminer et changer le statut.',
                                   body={'session': running.id})
                self._end(running, TERMINEE, Reason.FOR_MAINTENANCE, now, operateur=operateur, ip=ip,
                          details=f'Session terminée : poste {poste.nom} passé en {statut}.')
                poste = self._reload(poste)
            old = poste.statut
            poste.statut = statut
            poste.updated_at = now
            poste.save(only=[Poste.statut, Poste.updated_at])
            audit.record('changement_statut_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} : {old} → {statut}.',
                         metadata={'ancien': old, 'nouveau': statut})
            self._poste_changed(poste)
        return poste
