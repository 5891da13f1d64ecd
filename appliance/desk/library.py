"""The library itself: its name and the page its kiosks show during a session.

Two admin settings, kept in the State table (backed up with it), read by the dashboard and sent to
every kiosk in `sync`, so that a name set once reaches all the postes (docs/kiosk.md).
"""
from appliance import audit, events
from appliance.db import writing
from appliance.models import State

KEYS = {'nom': 'bibliotheque.nom', 'page_accueil': 'bibliotheque.page_accueil'}


def read_library():
    """{'nom', 'page_accueil'}: the stored values, '' when not set."""
    stored = dict(State.select(State.key, State.value).where(State.key.in_(list(KEYS.values()))).tuples())
    return {field: stored.get(key, '') for field, key in KEYS.items()}


class Library:
    def library(self):
        return read_library()

    def set_library(self, data, *, operateur, ip):
        """Change the name and/or the home page (`data` holds the fields sent, already clean)."""
        now = self.now()
        with writing():
            before = read_library()
            for field, value in data.items():
                State.insert(key=KEYS[field], value=value).on_conflict(
                    conflict_target=[State.key], update={State.value: value}).execute()
            after = read_library()
            changed = [field for field in KEYS if before[field] != after[field]]
            audit.record('modification_bibliotheque', now=now, operateur=operateur, ip=ip,
                         details=f'Réglages de la bibliothèque modifiés ({", ".join(changed) or "rien"}).',
                         metadata={'champs': changed})
            if changed:
                events.publish(events.LIBRARY_CHANGED, **after)
        return after
