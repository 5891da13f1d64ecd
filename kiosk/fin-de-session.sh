#!/bin/sh
# Poste Public - fin de session d'un poste Linux (docs/deployer-10-postes.md).
# Lancé par le kiosque (end_command) à la fin de chaque session, sous le compte des visiteurs :
# efface ce que le visiteur a laissé, puis ferme la session ; l'ouverture automatique (LightDM)
# rouvre aussitôt une session propre, et le kiosque redémarre avec elle.
pkill -u "$(id -u)" -x firefox-esr; pkill -u "$(id -u)" -x firefox; pkill -u "$(id -u)" -x chromium
rm -rf "$HOME/.mozilla" "$HOME/.cache/mozilla" "$HOME/.config/chromium" "$HOME/.cache/chromium"
find "$HOME/Téléchargements" "$HOME/Downloads" "$HOME/Documents" "$HOME/Bureau" "$HOME/Desktop" \
    -mindepth 1 -delete 2>/dev/null
loginctl terminate-session "$XDG_SESSION_ID"
