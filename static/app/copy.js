/* Copying a secret to the clipboard. On plain http (a LAN box) the Clipboard API is not offered,
 * so the text is selected in its field and copied the older way. */
import {toast} from './ui.js';

export async function copyFrom(input) {
  input.focus();
  input.select();
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(input.value);
    } else if (!document.execCommand('copy')) {
      throw new Error('copy refused');
    }
    toast('Copié dans le presse-papiers.');
  } catch {
    toast('Copie impossible ici : le texte est sélectionné, copiez-le avec Ctrl+C.', 'error');
  }
}
