#!/usr/bin/env node
// Data preparation helpers for scripts/get-data.sh and scripts/make-samples.sh.
// Plain Node.js (>= 18), no npm dependencies. Every output is deterministic:
// no randomness, no timestamps, input files are always visited in sorted order.
//
//   node scripts/datatools.js spam    <unpacked npm package dir> <out dir>
//   node scripts/datatools.js wordnet <wordnet dict dir>          <out dir>
//   node scripts/datatools.js brown   <unpacked npm package dir> <out dir>
//   node scripts/datatools.js samples <data/full dir>             <data/sample dir>
//
// Output rows: "label<TAB>text\n", UTF-8, no header. Text has every run of
// whitespace (tabs, newlines, CR, ...) collapsed to one space, control
// characters removed, is trimmed, and is never empty.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

// ---------------------------------------------------------------- common

function clean(s) {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFD]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// Truncate to at most n Unicode code points (never splits a surrogate pair).
function truncate(s, n) {
  const cps = Array.from(s);
  return cps.length <= n ? s : cps.slice(0, n).join('').trimEnd();
}

function md5hex(s) {
  return crypto.createHash('md5').update(s, 'utf8').digest('hex');
}

// Write rows atomically: temp file in the same directory, then rename.
function writeTsv(file, rows) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  const body = rows.map(([label, text]) => {
    if (!label || !text || /[\t\n\r]/.test(label + text)) {
      throw new Error(`bad row for ${file}: ${JSON.stringify([label, text])}`);
    }
    return `${label}\t${text}\n`;
  }).join('');
  fs.writeFileSync(tmp, body, 'utf8');
  fs.renameSync(tmp, file);
}

function writeLines(file, lines) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, lines.map((l) => `${l}\n`).join(''), 'utf8');
  fs.renameSync(tmp, file);
}

function readTsv(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => {
    const i = l.indexOf('\t');
    return [l.slice(0, i), l.slice(i + 1)];
  });
}

function countByLabel(rows) {
  const m = new Map();
  for (const [label] of rows) m.set(label, (m.get(label) || 0) + 1);
  return new Map([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

function report(name, split, rows) {
  const parts = [...countByLabel(rows)].map(([k, v]) => `${k}=${v}`);
  console.log(`${name} ${split}: ${rows.length} rows${parts.length <= 12 ? '  (' + parts.join(' ') + ')' : ''}`);
}

// ---------------------------------------------------------------- mail (SpamAssassin)

const HAM_GROUPS = new Set(['easy-ham-1', 'easy-ham-2', 'hard-ham-1']);
const SPAM_GROUPS = new Set(['spam-1', 'spam-2']);
const BODY_MAX = 2000; // characters of (cleaned) body kept per message in data/full
const SUBJECT_MAX = 200; // characters of (cleaned) subject kept

function splitHeaderBody(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return [raw, ''];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

function parseHeaders(block) {
  const h = new Map();
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (m) {
      const k = m[1].toLowerCase();
      if (!h.has(k)) h.set(k, m[2]);
    }
  }
  return h;
}

function looksLikeHeaders(block) {
  const lines = block.split(/\r?\n/).filter((l) => !/^[ \t]/.test(l));
  if (lines.length === 0) return false;
  const ok = lines.filter((l) => /^From /.test(l) || /^[!-9;-~]+:/.test(l)).length;
  return ok / lines.length >= 0.8;
}

function param(value, name) {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(value || '');
  return m ? (m[1] !== undefined ? m[1] : m[2]) : null;
}

function bytesToString(buf, charset) {
  const cs = (charset || '').toLowerCase().replace(/^"|"$/g, '');
  // The package already stores messages as UTF-8 text, so only transfer-encoded
  // (base64 / quoted-printable) content reaches here as raw bytes.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (_) { /* not UTF-8 */ }
  let label = cs;
  if (!label || label === 'us-ascii') {
    // No declared charset: look for an HTML <meta ... charset=...> in the bytes.
    const m = /charset\s*=\s*["']?([A-Za-z0-9_:.-]+)/i.exec(buf.subarray(0, 4096).toString('latin1'));
    if (m) label = m[1].toLowerCase();
  }
  try {
    if (label && label !== 'utf-8' && label !== 'utf8') return new TextDecoder(label).decode(buf);
  } catch (_) { /* unknown charset label */ }
  return new TextDecoder('windows-1252').decode(buf);
}

// Text -> bytes without touching code points above 0xFF (they can only come
// from the already-decoded UTF-8 file, so re-encode those as UTF-8).
function stringToBytes(s) {
  const out = [];
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c <= 0xff) out.push(c);
    else for (const b of Buffer.from(ch, 'utf8')) out.push(b);
  }
  return Buffer.from(out);
}

function decodeQP(s) {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const ch = soft[i];
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.substr(i + 1, 2))) {
      bytes.push(parseInt(soft.substr(i + 1, 2), 16));
      i += 2;
    } else {
      for (const b of stringToBytes(ch)) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

function decodeTransfer(body, cte) {
  const enc = (cte || '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return decodeQP(body);
  return null; // 7bit / 8bit / binary / none: already text
}

// RFC 2047 encoded words in headers, e.g. =?iso-8859-1?Q?caf=E9?=
function decodeEncodedWords(s) {
  return s
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (all, cs, enc, data) => {
      try {
        const buf = enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : decodeQP(data.replace(/_/g, ' '));
        return bytesToString(buf, cs.replace(/\*.*$/, ''));
      } catch (_) {
        return all;
      }
    });
}

const ENTITIES = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '\u00A9', reg: '\u00AE',
  trade: '\u2122', middot: '\u00B7', bull: '\u2022', hellip: '\u2026', ndash: '\u2013',
  mdash: '\u2014', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201C', rdquo: '\u201D',
  pound: '\u00A3', euro: '\u20AC', yen: '\u00A5', cent: '\u00A2', laquo: '\u00AB', raquo: '\u00BB',
};

function htmlToText(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(style|script|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});?/g, (all, e) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : ' ';
      }
      const v = ENTITIES[e.toLowerCase()];
      return v !== undefined ? v : all;
    });
}

// Returns [{type:'plain'|'html', text}] for the readable parts of a MIME entity.
function textParts(headers, body, depth) {
  if (depth > 8) return [];
  const ct = (headers.get('content-type') || 'text/plain').toLowerCase();
  const type = ct.split(';')[0].trim();
  if (type.startsWith('multipart/')) {
    const boundary = param(headers.get('content-type'), 'boundary');
    if (!boundary) return [{ type: 'plain', text: body }];
    const delim = `--${boundary}`;
    const chunks = body.split(delim);
    const parts = [];
    for (let i = 1; i < chunks.length; i++) {
      let c = chunks[i];
      if (c.startsWith('--')) break; // closing delimiter
      c = c.replace(/^[^\n]*\n/, ''); // rest of the delimiter line
      let ph = new Map();
      let pb = c;
      if (/^\r?\n/.test(c)) {
        pb = c.replace(/^\r?\n/, ''); // part without headers
      } else {
        const [hb, bb] = splitHeaderBody(c);
        if (looksLikeHeaders(hb)) { ph = parseHeaders(hb); pb = bb; }
      }
      parts.push(...textParts(ph, pb, depth + 1));
    }
    if (parts.length === 0) {
      // Broken structure (no delimiter found): fall back to the raw preamble.
      return chunks.length === 1 ? [{ type: 'plain', text: body }] : [];
    }
    const plain = parts.filter((p) => p.type === 'plain');
    return plain.length > 0 ? plain : parts;
  }
  if (type === 'message/rfc822') {
    const [hb, bb] = splitHeaderBody(body);
    const inner = parseHeaders(hb);
    const subj = inner.get('subject');
    const parts = textParts(inner, bb, depth + 1);
    return subj ? [{ type: 'plain', text: decodeEncodedWords(subj) }, ...parts] : parts;
  }
  const disposition = (headers.get('content-disposition') || '').toLowerCase();
  const isText = type === 'text/plain' || type === 'text/html' || type === 'text' || type === '';
  if (!isText || disposition.startsWith('attachment')) return [];
  const bytes = decodeTransfer(body, headers.get('content-transfer-encoding'));
  const text = bytes ? bytesToString(bytes, param(headers.get('content-type'), 'charset')) : body;
  return [{ type: type === 'text/html' ? 'html' : 'plain', text }];
}

function mailToText(raw) {
  const [hb, bb] = splitHeaderBody(raw);
  let headers;
  let body;
  if (looksLikeHeaders(hb)) {
    headers = parseHeaders(hb);
    body = bb;
  } else {
    headers = new Map();
    body = raw;
  }
  const subject = truncate(clean(decodeEncodedWords(headers.get('subject') || '')), SUBJECT_MAX);
  let parts;
  try {
    parts = textParts(headers, body, 0);
  } catch (_) {
    parts = [{ type: 'plain', text: body }];
  }
  let text = parts.map((p) => (p.type === 'html' ? htmlToText(p.text) : p.text)).join('\n');
  // PGP/GPG signature and key blocks are base64 noise (and a give-away for ham): drop them.
  text = text.replace(/-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK)-----[\s\S]*?(?:-----END PGP \1-----|$)/g, ' ');
  // A text/plain part that is really HTML (common in spam): strip tags too.
  if (/<(html|body|table|font|p|br|div|a)\b[^>]*>/i.test(text)) text = htmlToText(text);
  const bodyText = truncate(clean(text), BODY_MAX);
  return { subject, body: bodyText };
}

// Fixed split: the message MD5 (part of the package's file name, and the
// "checksum" field) read as a 128-bit integer; test if value % 5 == 0.
function isTestChecksum(md5) {
  return BigInt(`0x${md5}`) % 5n === 0n;
}

// Exact-duplicate texts: items are visited in input order (spam: by message
// MD5; WordNet: data.adj, data.adv, data.noun, data.verb by offset) and only the
// first item with a given text is kept; its id decides the split. A text that
// occurs with two different labels is dropped altogether (ambiguous).
// Output order: by md5(id), a fixed pseudo-random order so labels interleave.
function finalize(name, items) {
  const byText = new Map();
  for (const it of items) {
    const prev = byText.get(it.text);
    if (!prev) byText.set(it.text, { first: it, labels: new Set([it.label]), n: 1 });
    else { prev.labels.add(it.label); prev.n++; }
  }
  let dup = 0;
  let conflicts = 0;
  const kept = [];
  for (const { first, labels, n } of byText.values()) {
    if (labels.size > 1) { conflicts++; dup += n; continue; }
    dup += n - 1;
    kept.push(first);
  }
  console.log(`${name}: dropped ${dup} items: exact duplicate texts, including all ${conflicts} texts seen with >1 label`);
  kept.sort((a, b) => {
    const ka = md5hex(a.id);
    const kb = md5hex(b.id);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const rows = (t) => kept.filter((it) => it.test === t).map((it) => [it.label, it.text]);
  return [rows(false), rows(true)];
}

function cmdSpam(pkgDir, outDir) {
  const dataDir = path.join(pkgDir, 'data');
  const groups = fs.readdirSync(dataDir).filter((g) => fs.statSync(path.join(dataDir, g)).isDirectory()).sort();
  const items = [];
  let skipped = 0;
  const perGroup = [];
  for (const g of groups) {
    let label;
    if (SPAM_GROUPS.has(g)) label = 'spam';
    else if (HAM_GROUPS.has(g)) label = 'ham';
    else throw new Error(`unknown message group ${g}`);
    const files = fs.readdirSync(path.join(dataDir, g)).filter((f) => f.endsWith('.json')).sort();
    perGroup.push(`${g}=${files.length}`);
    for (const f of files) {
      const msg = JSON.parse(fs.readFileSync(path.join(dataDir, g, f), 'utf8'));
      const md5 = (msg.checksum && msg.checksum.value) || f.split('.')[1];
      if (!/^[0-9a-f]{32}$/.test(md5)) throw new Error(`no MD5 for ${g}/${f}`);
      const { subject, body } = mailToText(msg.text);
      const text = clean(`${subject} ${body}`);
      if (!text) { skipped++; continue; }
      items.push({ label, text, id: md5, test: isTestChecksum(md5) });
    }
  }
  console.log(`spam: messages per group: ${perGroup.join(' ')}; skipped (empty text): ${skipped}`);
  items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // stable: ties keep group order
  const [train, test] = finalize('spam', items);
  writeTsv(path.join(outDir, 'train.tsv'), train);
  writeTsv(path.join(outDir, 'test.tsv'), test);
  report('spam', 'train', train);
  report('spam', 'test', test);
}

// ---------------------------------------------------------------- WordNet 3.0

// The standard WordNet lexicographer file names (lexnames(5WN)), index = lex_filenum.
const LEXNAMES = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact',
  'noun.attribute', 'noun.body', 'noun.cognition', 'noun.communication', 'noun.event',
  'noun.feeling', 'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object',
  'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process',
  'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
  'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition',
  'verb.consumption', 'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion',
  'verb.perception', 'verb.possession', 'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl',
];
const POS_OF_TYPE = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

function cmdWordnet(wnDir, outDir) {
  if (LEXNAMES.length !== 45) throw new Error('lexnames table must have 45 entries');
  const items = [];
  let noGloss = 0;
  for (const pos of ['adj', 'adv', 'noun', 'verb']) {
    const lines = fs.readFileSync(path.join(wnDir, `data.${pos}`), 'utf8').split('\n');
    for (const line of lines) {
      if (line.length === 0 || line.startsWith('  ')) continue; // licence header
      const m = /^(\d{8}) (\d{2}) ([nvasr]) /.exec(line);
      if (!m) throw new Error(`unparsable line in data.${pos}: ${line.slice(0, 80)}`);
      const offset = parseInt(m[1], 10);
      const lexnum = parseInt(m[2], 10);
      const label = LEXNAMES[lexnum];
      if (!label || !label.startsWith(`${POS_OF_TYPE[m[3]]}.`)) {
        throw new Error(`lex_filenum ${lexnum} (${label}) inconsistent with ss_type ${m[3]} in data.${pos}`);
      }
      const bar = line.indexOf(' | ');
      const gloss = bar >= 0 ? clean(line.slice(bar + 3)) : '';
      if (!gloss) { noGloss++; continue; }
      items.push({ label, text: gloss, id: `${pos}:${m[1]}`, test: offset % 5 === 0 });
    }
  }
  console.log(`wordnet: synsets: ${items.length}; skipped for empty gloss: ${noGloss}`);
  const [train, test] = finalize('wordnet', items);
  console.log(`wordnet: classes: ${countByLabel(train.concat(test)).size}`);
  writeTsv(path.join(outDir, 'train.tsv'), train);
  writeTsv(path.join(outDir, 'test.tsv'), test);
  report('wordnet', 'train', train);
  report('wordnet', 'test', test);
  for (const [k, v] of countByLabel(train)) {
    const t = test.filter((r) => r[0] === k).length;
    console.log(`  ${k.padEnd(20)} train=${String(v).padStart(5)} test=${String(t).padStart(5)}`);
  }
}

// ---------------------------------------------------------------- Brown corpus

// Brown's tokens are word/TAG; the text is the words. The corpus writes quotes as `` and '' tokens.
function brownText(block) {
  const words = block.split(/\s+/).filter((t) => t.length > 0).map((t) => {
    const slash = t.lastIndexOf('/');
    return slash > 0 ? t.slice(0, slash) : t;
  }).map((w) => (w === '``' || w === "''" ? '"' : w));
  return clean(words.join(' '));
}

// One row per paragraph (blocks separated by blank lines), labelled with its file's genre (cats.txt). The split is by
// file, so no file straddles it: within each genre, files ordered by md5(file name), the first round(n / 4) (at least 1)
// are test files.
function cmdBrown(pkgDir, outDir) {
  const genreOf = new Map();
  for (const line of fs.readFileSync(path.join(pkgDir, 'cats.txt'), 'utf8').split('\n')) {
    const m = /^(c[a-r]\d\d) (\S+)$/.exec(line.trim());
    if (m) genreOf.set(m[1], m[2]);
  }
  if (genreOf.size !== 500) throw new Error(`brown: cats.txt lists ${genreOf.size} files, expected 500`);
  const filesOf = new Map();
  for (const [file, genre] of [...genreOf.entries()].sort()) {
    if (!filesOf.has(genre)) filesOf.set(genre, []);
    filesOf.get(genre).push(file);
  }
  const testFiles = new Set();
  for (const files of filesOf.values()) {
    const ordered = [...files].sort((a, b) => (md5hex(a) < md5hex(b) ? -1 : 1));
    ordered.slice(0, Math.max(1, Math.round(files.length / 4))).forEach((f) => testFiles.add(f));
  }
  const items = [];
  for (const [file, genre] of [...genreOf.entries()].sort()) {
    const blocks = fs.readFileSync(path.join(pkgDir, file), 'utf8').split(/\n\s*\n/);
    blocks.forEach((block, i) => {
      const text = brownText(block);
      if (text) items.push({ label: genre, text, id: `${file}:${i}`, test: testFiles.has(file) });
    });
  }
  console.log(`brown: ${items.length} paragraphs in ${genreOf.size} files, ${filesOf.size} genres; ${testFiles.size} test files`);
  const [train, test] = finalize('brown', items);
  writeTsv(path.join(outDir, 'train.tsv'), train);
  writeTsv(path.join(outDir, 'test.tsv'), test);
  report('brown', 'train', train);
  report('brown', 'test', test);
}

// ---------------------------------------------------------------- samples

// Deterministic "shuffle": order rows by md5(label \t text), ties by text.
function byHash(rows) {
  return rows
    .map((r) => ({ r, k: md5hex(`${r[0]}\t${r[1]}`) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.r[1] < b.r[1] ? -1 : a.r[1] > b.r[1] ? 1 : 0))
    .map((x) => x.r);
}

function dedupe(rows) {
  const seen = new Set();
  return rows.filter(([l, t]) => {
    const k = `${l}\t${t}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// Take `total` rows keeping the label proportions of `rows` (largest remainder).
function stratified(rows, total) {
  const counts = countByLabel(rows);
  const n = rows.length;
  const quota = new Map();
  let used = 0;
  const rema = [];
  for (const [k, c] of counts) {
    const exact = (c * total) / n;
    quota.set(k, Math.floor(exact));
    used += Math.floor(exact);
    rema.push([exact - Math.floor(exact), k]);
  }
  rema.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
  for (let i = 0; used < total && i < rema.length; i++, used++) quota.set(rema[i][1], quota.get(rema[i][1]) + 1);
  return takeQuota(rows, quota);
}

function takeQuota(rows, quota) {
  const taken = new Map();
  const out = [];
  for (const r of byHash(dedupe(rows))) {
    const q = quota.get(r[0]) || 0;
    const t = taken.get(r[0]) || 0;
    if (t < q) { out.push(r); taken.set(r[0], t + 1); }
  }
  for (const [k, q] of quota) {
    if ((taken.get(k) || 0) < q) throw new Error(`not enough rows for ${k}: ${taken.get(k) || 0} < ${q}`);
  }
  return out;
}

const SAMPLE = {
  spamTrain: 800,
  spamTest: 200,
  spamChars: 600,
  wordnetClasses: ['noun.animal', 'noun.artifact', 'noun.body', 'noun.food', 'noun.person',
    'noun.plant', 'verb.communication', 'verb.motion'],
  wordnetTrainPerClass: 190,
  wordnetTestPerClass: 50,
  corpusGlosses: 4000,
  corpusMails: 1000,
  corpusMailChars: 300,
  brownTrain: 1200,
  brownTest: 400,
};

function cmdSamples(fullDir, sampleDir) {
  const cut = (rows, n) => rows.map(([l, t]) => [l, truncate(t, n)]);

  // Spam: stratified by label, texts truncated to 600 characters.
  const spamTrainFull = readTsv(path.join(fullDir, 'spam', 'train.tsv'));
  const spamTestFull = readTsv(path.join(fullDir, 'spam', 'test.tsv'));
  const spamTrain = stratified(spamTrainFull, SAMPLE.spamTrain);
  const spamTest = stratified(spamTestFull, SAMPLE.spamTest);
  writeTsv(path.join(sampleDir, 'spam', 'train.tsv'), cut(spamTrain, SAMPLE.spamChars));
  writeTsv(path.join(sampleDir, 'spam', 'test.tsv'), cut(spamTest, SAMPLE.spamChars));
  report('sample spam', 'train', spamTrain);
  report('sample spam', 'test', spamTest);

  // WordNet: 8 supersenses, balanced.
  const wnTrainFull = readTsv(path.join(fullDir, 'wordnet', 'train.tsv'));
  const wnTestFull = readTsv(path.join(fullDir, 'wordnet', 'test.tsv'));
  const keep = new Set(SAMPLE.wordnetClasses);
  const q = (n) => new Map(SAMPLE.wordnetClasses.map((c) => [c, n]));
  const wnTrain = takeQuota(wnTrainFull.filter((r) => keep.has(r[0])), q(SAMPLE.wordnetTrainPerClass));
  const wnTest = takeQuota(wnTestFull.filter((r) => keep.has(r[0])), q(SAMPLE.wordnetTestPerClass));
  writeTsv(path.join(sampleDir, 'wordnet', 'train.tsv'), wnTrain);
  writeTsv(path.join(sampleDir, 'wordnet', 'test.tsv'), wnTest);
  report('sample wordnet', 'train', wnTrain);
  report('sample wordnet', 'test', wnTest);

  // Brown: paragraphs stratified by genre (the full split is by file, so the sample's is too).
  const brownTrain = stratified(readTsv(path.join(fullDir, 'brown', 'train.tsv')), SAMPLE.brownTrain);
  const brownTest = stratified(readTsv(path.join(fullDir, 'brown', 'test.tsv')), SAMPLE.brownTest);
  writeTsv(path.join(sampleDir, 'brown', 'train.tsv'), brownTrain);
  writeTsv(path.join(sampleDir, 'brown', 'test.tsv'), brownTest);
  report('sample brown', 'train', brownTrain);
  report('sample brown', 'test', brownTest);

  // Unlabelled corpus: train-split texts only (never test), one document per line.
  // Glosses from all 45 classes that are not already in the WordNet sample, plus
  // mail texts that are not in the spam sample, truncated to 300 characters.
  const inSample = new Set(wnTrain.concat(spamTrain).map((r) => r[1]));
  const seen = new Set(inSample);
  const pick = (rows, n, chars) => {
    const out = [];
    for (const [, t] of byHash(rows)) {
      if (out.length >= n) break;
      const c = truncate(t, chars);
      if (seen.has(t) || seen.has(c)) continue;
      seen.add(c);
      out.push(c);
    }
    if (out.length < n) throw new Error(`corpus: only ${out.length} < ${n} lines`);
    return out;
  };
  const glosses = pick(wnTrainFull, SAMPLE.corpusGlosses, Infinity);
  const mails = pick(spamTrainFull, SAMPLE.corpusMails, SAMPLE.corpusMailChars);
  const lines = byHash(glosses.concat(mails).map((t) => ['', t])).map((r) => r[1]);
  writeLines(path.join(sampleDir, 'corpus.txt'), lines);
  console.log(`sample corpus: ${lines.length} lines (${glosses.length} glosses, ${mails.length} mails)`);
}

// ---------------------------------------------------------------- main

if (require.main === module) {
  const [cmd, a, b] = process.argv.slice(2);
  const cmds = { spam: cmdSpam, wordnet: cmdWordnet, brown: cmdBrown, samples: cmdSamples };
  if (!cmds[cmd] || !a || !b) {
    console.error('usage: datatools.js spam|wordnet|brown|samples <input dir> <output dir>');
    process.exit(2);
  }
  cmds[cmd](a, b);
} else {
  module.exports = { mailToText, clean, truncate };
}
