/* CSV for French Excel: UTF-8 with a byte order mark (so accents open right), ";" between fields,
 * CRLF line ends, fields quoted when they need it. A cell that starts like a formula (=, +, -, @, a
 * tab or a carriage return) is written with a leading apostrophe: a visitor’s name
 * or a poste's name typed as "=HYPERLINK(…)" stays text when the export is opened in a spreadsheet. */

export function toCsv(header, rows) {
  return '\ufeff' + [header, ...rows].map((row) => row.map(cell).join(';')).join('\r\n') + '\r\n';
}

function cell(value) {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[";\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Offers `text` as a file download named `name`. */
export function download(name, text, type = 'text/csv;charset=utf-8') {
  saveBlob(name, new Blob([text], {type}));
}

export function saveBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
