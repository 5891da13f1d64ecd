#!/bin/sh
# Poste Public - fin de session d'un poste Linux (docs/deployer-10-postes.md, docs/kiosk.md).
# Installé en /usr/local/sbin/poste-public-fin-de-session et lancé en root par l'unité
# poste-public-fin-de-session.service, que le kiosque (compte poste-kiosk) démarre à la fin de
# chaque session : efface ce que le visiteur a laissé, puis ferme sa session ; l'ouverture
# automatique (LightDM) en rouvre aussitôt une propre, et le kiosque revient sur le nouvel écran.
# Le compte des visiteurs : COMPTE_PUBLIC (public par défaut, réglable dans /etc/poste-public/kiosk.env).
set -u
COMPTE=${COMPTE_PUBLIC:-public}
DOSSIER=$(getent passwd "$COMPTE" | cut -d: -f6)
[ -n "$DOSSIER" ] && [ "$DOSSIER" != / ] || { echo "compte $COMPTE introuvable" >&2; exit 1; }
pkill -u "$COMPTE" -x firefox-esr; pkill -u "$COMPTE" -x firefox; pkill -u "$COMPTE" -x chromium
rm -rf "$DOSSIER/.mozilla" "$DOSSIER/.cache/mozilla" "$DOSSIER/.config/chromium" "$DOSSIER/.cache/chromium"
find "$DOSSIER/Téléchargements" "$DOSSIER/Downloads" "$DOSSIER/Documents" "$DOSSIER/Bureau" "$DOSSIER/Desktop" \
    -mindepth 1 -delete 2>/dev/null
loginctl terminate-user "$COMPTE"
exit 0
