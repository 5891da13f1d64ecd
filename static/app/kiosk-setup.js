/* Setting up a poste's kiosk in one go, once its token is known (it is shown only once): the
 * kiosk.ini file to download for the Tk kiosk, and the full address for the web kiosk. */
import {copyFrom} from './copy.js';
import {download} from './csv.js';
import {h} from './dom.js';
import {date} from './format.js';

/** The Tk kiosk's configuration file (docs/kiosk.md describes every key). */
export function kioskIni({server, poste, token, library}) {
  const line = (key, value) => `${key} = ${oneLine(value)}`;
  return [
    `# Poste Public — kiosque du poste « ${oneLine(poste.nom)} », préparé le ${date(new Date().toISOString())}.`,
    '# Windows : C:\\ProgramData\\poste-public\\kiosk.ini ; Linux : /etc/poste-public/kiosk.ini',
    '# (voir docs/deployer-10-postes.md). Le jeton vaut pour ce poste seul : gardez ce fichier privé.',
    '[kiosk]',
    line('server', server),
    line('poste', poste.ip_address),
    line('token', token),
    library.nom ? line('library_name', library.nom) : '# library_name = (le nom réglé sur la page Postes)',
    library.page_accueil ? line('home_page', library.page_accueil) : '# home_page = https://catalogue.exemple.fr/',
    ...(server.startsWith('https:') ? [
      '# Boîtier en HTTPS : son autorité (ca.pem, voir docs/install.md), si ce PC ne la connaît pas déjà :',
      '# ca = /etc/poste-public/ca.pem'] : []),
    '# Commande de fin de session (voir docs/deployer-10-postes.md) : sous Windows',
    '# end_command = shutdown /l /f',
    '# sous Linux',
    '# end_command = systemctl start --no-block poste-public-fin-de-session.service',
    '# Commandes de l’accueil (déconnecter, redémarrer, éteindre ; voir docs/kiosk.md), sous Linux en service :',
    '# logoff_command = systemctl start --no-block poste-public-fin-de-session.service',
    '# admin_secret_hash = (sortie de : poste-public-kiosk hash-secret)',
    '',
  ].join('\r\n');
}

/** The web kiosk's address: the settings ride in the fragment, which never reaches the server. */
export function webKioskAddress({server, poste, token, library}) {
  const settings = new URLSearchParams({poste: poste.ip_address, token});
  if (library.nom) settings.set('bibliotheque', library.nom);
  if (library.page_accueil) settings.set('accueil', library.page_accueil);
  return `${server}/kiosk/#${settings.toString().replace(/\+/g, '%20')}`;
}

export function iniFileName(poste) {
  const slug = poste.nom.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `kiosk-${slug || poste.id}.ini`;
}

/** The panel shown right after a token was issued; ondone() when the staff member is done. */
export function setupPanel({poste, token, library, ondone}) {
  const server = h('input', {id: 'kiosk-server', value: location.origin, spellcheck: 'false',
    'aria-describedby': 'kiosk-server-hint'});
  const tokenInput = h('input', {id: 'kiosk-token', readonly: true, value: token, class: 'secret'});
  const addressInput = h('input', {id: 'kiosk-address', readonly: true, class: 'secret'});
  const values = () => ({server: server.value.trim().replace(/\/+$/, ''), poste, token, library});
  const refresh = () => { addressInput.value = webKioskAddress(values()); };
  server.addEventListener('input', refresh);
  refresh();
  const panel = h('section', {class: 'panel token', role: 'alert', 'aria-labelledby': 'kiosk-setup-title'},
    h('h2', {id: 'kiosk-setup-title'}, `Kiosque de ${poste.nom} : à configurer maintenant`),
    h('p', {}, h('strong', {}, 'Le jeton ne sera affiché qu’une fois.'),
      ' Téléchargez le fichier de configuration du kiosque, ou notez l’adresse du kiosque web, avant de fermer ce cadre.'),
    h('label', {for: 'kiosk-server'}, 'Adresse du boîtier, vue depuis les postes'),
    server,
    h('p', {class: 'hint', id: 'kiosk-server-hint'},
      'Celle que les postes publics utilisent pour joindre le boîtier (par exemple http://192.168.1.10:8000).'),
    h('div', {class: 'actions'},
      h('button', {type: 'button', class: 'primary', id: 'kiosk-ini',
        onclick: () => download(iniFileName(poste), kioskIni(values()), 'text/plain;charset=utf-8')},
      'Télécharger la configuration du kiosque')),
    h('p', {class: 'hint'}, `Le fichier ${iniFileName(poste)} se copie sur le poste sous le nom kiosk.ini : `,
      'C:\\ProgramData\\poste-public\\ (Windows) ou /etc/poste-public/ (Linux).'),
    h('label', {for: 'kiosk-address'}, 'Ou, pour un poste qui n’a qu’un navigateur, ouvrez cette adresse sur le poste'),
    h('div', {class: 'row'}, addressInput,
      h('button', {type: 'button', onclick: () => copyFrom(addressInput)}, 'Copier l’adresse')),
    h('label', {for: 'kiosk-token'}, 'Le jeton seul'),
    h('div', {class: 'row'}, tokenInput,
      h('button', {type: 'button', onclick: () => copyFrom(tokenInput)}, 'Copier le jeton')),
    h('div', {class: 'actions'},
      h('button', {type: 'button', onclick: ondone}, 'C’est noté')));
  return {panel, focus: () => server.focus()};
}

function oneLine(value) {
  return String(value ?? '').replace(/[\r\n]+/g, ' ').trim();
}
