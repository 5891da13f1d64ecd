/* Small SVG charts drawn at the size of their container (one SVG unit = one CSS pixel, so text
 * stays readable from the desk screen to a tablet). Every mark has a <title> for its exact value. */
import {h, svg} from './dom.js';

const FONT = 12;

/** Vertical bars: items [{label, value, title}], every `labelEvery`-th label shown under its bar. */
export function barChart(items, {width, height = 220, labelEvery = 1}) {
  const left = 40;
  const bottom = 26;
  const top = 10;
  const plotW = Math.max(50, width - left - 8);
  const plotH = height - bottom - top;
  const max = niceMax(Math.max(0, ...items.map((i) => i.value)));
  const step = plotW / Math.max(1, items.length);
  const chart = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img'});
  const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];   // counts: whole numbers only
  for (const tick of ticks) {
    const y = top + plotH - (tick / max) * plotH;
    chart.append(svg('line', {x1: left, x2: left + plotW, y1: y, y2: y, class: 'grid'}),
      svg('text', {x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis', 'font-size': FONT},
        String(tick)));
  }
  items.forEach((item, i) => {
    const barH = (item.value / max) * plotH;
    const x = left + i * step + step * 0.15;
    chart.append(svg('rect', {x, y: top + plotH - barH, width: Math.max(1, step * 0.7), height: Math.max(0, barH),
      class: 'bar', rx: 2}, svg('title', {}, item.title)));
    if (i % labelEvery === 0) {
      chart.append(svg('text', {x: left + i * step + step / 2, y: height - 8, 'text-anchor': 'middle',
        class: 'axis', 'font-size': FONT}, item.label));
    }
  });
  return chart;
}

/** A grid of cells: rows × columns of values, coloured from pale to dark by value / max. */
export function heatmap({rows, columns, values, title, width, max}) {
  const left = 44;
  const top = 22;
  const cellW = Math.max(14, (width - left - 4) / columns.length);
  const cellH = 30;
  const height = top + rows.length * cellH + 4;
  const top1 = max || Math.max(0, ...values.flat()) || 1;
  const chart = svg('svg', {width: left + cellW * columns.length + 4, height,
    viewBox: `0 0 ${left + cellW * columns.length + 4} ${height}`, class: 'chart heatmap', role: 'img'});
  columns.forEach((column, c) => {
    chart.append(svg('text', {x: left + c * cellW + cellW / 2, y: 14, 'text-anchor': 'middle', class: 'axis',
      'font-size': FONT}, column.label));
  });
  rows.forEach((row, r) => {
    chart.append(svg('text', {x: left - 6, y: top + r * cellH + cellH / 2 + 4, 'text-anchor': 'end', class: 'axis',
      'font-size': FONT}, row));
    columns.forEach((column, c) => {
      const value = values[r][column.index];
      chart.append(svg('rect', {x: left + c * cellW + 1, y: top + r * cellH + 1, width: cellW - 2, height: cellH - 2,
        rx: 3, fill: shade(value / top1), class: 'cell'}, svg('title', {}, title(r, column.index, value))));
    });
  });
  return chart;
}

/** Horizontal bars with a text label and a value text: items [{label, value, text}]. */
export function horizontalBars(items, {width}) {
  const labelW = Math.min(140, width * 0.25);
  const textW = 150;
  const rowH = 28;
  const plotW = Math.max(40, width - labelW - textW - 8);
  const max = Math.max(1, ...items.map((i) => i.value));
  const height = items.length * rowH + 4;
  const chart = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img'});
  items.forEach((item, i) => {
    const y = i * rowH + 2;
    const barW = (item.value / max) * plotW;
    chart.append(
      svg('text', {x: labelW - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end', 'font-size': FONT + 1, class: 'label'},
        item.label),
      svg('rect', {x: labelW, y: y + 5, width: Math.max(item.value ? 2 : 0, barW), height: rowH - 10, rx: 3,
        class: 'bar'}, svg('title', {}, `${item.label} : ${item.text}`)),
      svg('text', {x: labelW + barW + 8, y: y + rowH / 2 + 4, 'font-size': FONT, class: 'axis'}, item.text));
  });
  return chart;
}

/** The colour of a cell: from very pale blue (0) to the header's navy (1). */
function shade(ratio) {
  if (!ratio) return '#f1f4f8';
  const from = [220, 232, 245];
  const to = [29, 53, 87];
  const t = 0.15 + 0.85 * Math.min(1, ratio);
  const mix = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${mix.join(',')})`;
}

/** A round upper bound for an axis: 1, 2, 5, 10, 20, 50… (at least 1). */
function niceMax(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

/** A chart in a figure, with its caption and the same numbers as a table for screen readers. */
export function figure(caption, chart, table) {
  chart.setAttribute('aria-label', caption);
  return h('figure', {class: 'figure'}, h('figcaption', {}, caption), h('div', {class: 'chart-box'}, chart),
    table ? h('details', {class: 'data'}, h('summary', {}, 'Voir les chiffres'), table) : null);
}
