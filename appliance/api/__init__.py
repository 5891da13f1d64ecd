"""The REST API: one module of routes per resource, all registered by register()."""
from appliance.api import (auth, backups, bibliotheque, comptes, logs, postes, sessions, stats, system,
                           utilisateurs, sites)


def register(app, ctx):
    for module in (auth, comptes, utilisateurs, postes, sessions, logs, stats, backups, bibliotheque, system, sites):
        module.routes(app, ctx)
