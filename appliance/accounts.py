"""Staff accounts: who may use the desk, and the rules that keep at least one admin.

Called by the REST routes (/api/comptes/, /api/auth/) and the command line (createsuperuser).
"""
import os
import re
import secrets

from appliance import audit
from appliance.auth import hash_password, password_problems
from appliance.db import writing
from appliance.errors import Conflict, Invalid
from appliance.models import ROLES, Compte

USERNAME_RE = re.compile(r'^[\w.@+-]{1,150}$')
INITIAL_PASSWORD_FILE = 'initial_admin_password'


def check_new_password(password, username):
    problems = password_problems(password, username)
    if problems:
        raise Invalid({'password': problems}, detail='Mot de passe trop faible.')


def create(username, password, *, now, email='', role='staff', is_active=True, operateur='', ip=None,
           site=None):
    errors = {}
    if not USERNAME_RE.match(username or ''):
        errors['username'] = ["Nom d'utilisateur invalide : lettres, chiffres et . @ + - _ seulement."]
    elif Compte.select().where(Compte.username == username).exists():
        errors['username'] = ["Ce nom d'utilisateur existe déjà."]
    if role not in ROLES:
        errors['role'] = [f'Rôle inconnu : choisissez parmi {", ".join(ROLES)}.']
    if errors:
        raise Invalid(errors)
    check_new_password(password, username)
    password_hash = hash_password(password)
    with writing():
        compte = Compte.create(username=username, email=email, role=role, is_active=is_active,
                               password_hash=password_hash, created_at=now,
                               **({'site': site} if site is not None else {}))
        audit.record('creation_compte', now=now, operateur=operateur, ip=ip, site=compte.site_id,
                     details=f'Compte {username} créé (rôle {role}).')
    return compte


def update(compte, changes, *, now, authenticator, data_dir, operateur='', ip=None):
    """Apply cleaned `changes` (email, role, is_active, password) to `compte`."""
    _keep_an_admin(compte, changes)
    if 'role' in changes and changes['role'] not in ROLES:
        raise Invalid({'role': [f'Rôle inconnu : choisissez parmi {", ".join(ROLES)}.']})
    new_hash = None
    if changes.get('password') is not None:
        check_new_password(changes['password'], compte.username)
        new_hash = hash_password(changes['password'])
    with writing():
        _keep_an_admin(compte, changes)
        for field in ('email', 'role', 'is_active', 'site'):
            if field in changes:
                setattr(compte, field, changes[field])
        if new_hash:
            compte.password_hash = new_hash
        compte.save()
        if new_hash or not compte.is_active:
            authenticator.revoke_all(compte)
        authenticator.forget(compte.id)
        what = ', '.join(sorted(k if k != 'password' else 'mot de passe' for k in changes)) or 'rien'
        audit.record('modification_compte', now=now, operateur=operateur, ip=ip,
                     details=f'Compte {compte.username} modifié ({what}).')
    if new_hash:
        forget_initial_password(data_dir, compte)
    return compte


def delete(compte, *, now, authenticator, operateur='', ip=None):
    _keep_an_admin(compte, {'is_active': False})
    with writing():
        _keep_an_admin(compte, {'is_active': False})
        username = compte.username
        authenticator.forget(compte.id)
        compte.delete_instance()
        audit.record('suppression_compte', now=now, operateur=operateur, ip=ip,
                     details=f'Compte {username} supprimé.')


def _keep_an_admin(compte, changes):
    """409 when `compte` is the last active admin and `changes` would end that. Checked again inside
    writing(): under the write lock, check and change are one step for concurrent requests."""
    current = Compte.get_or_none(Compte.id == compte.id) or compte
    demoted = changes.get('role', current.role) != 'admin' or not changes.get('is_active', current.is_active)
    if current.role == 'admin' and current.is_active and demoted and _is_last_admin(current):
        raise Conflict('Impossible : il doit rester au moins un administrateur actif.')


def _is_last_admin(compte):
    others = Compte.select().where(Compte.role == 'admin', Compte.is_active == True,  # noqa: E712
                                   Compte.id != compte.id)
    return not others.exists()


def ensure_initial_admin(data_dir, now):
    """First start with no account: create `admin` with a random password, kept in a 0600 file
    until it is changed. Returns that file's path, or None when an account already exists."""
    if Compte.select().exists():
        return None
    password = secrets.token_urlsafe(12)
    create('admin', password, now=now, role='admin', operateur='système')
    path = os.path.join(data_dir, INITIAL_PASSWORD_FILE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        f.write(password + '\n')
    return path


def has_initial_password(data_dir, compte):
    """True while `admin` still has the password generated at first start."""
    return compte.username == 'admin' and os.path.exists(os.path.join(data_dir, INITIAL_PASSWORD_FILE))


def forget_initial_password(data_dir, compte):
    if compte.username == 'admin':
        try:
            os.remove(os.path.join(data_dir, INITIAL_PASSWORD_FILE))
        except FileNotFoundError:
            pass
