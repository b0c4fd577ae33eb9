// The lineage explorer's UI: search, lineage graph (SVG), timeline, span details,
// completeness and recent orders; and the consumer lag page (lag.html: groups, partitions,
// sparklines, polled live). Plain DOM, no dependencies; the API is docs/explorer-api.md.
'use strict';

(function () {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const MAX_COLUMNS = 12;     // drawn trace columns; the rest is summarized in a note
  const MAX_STUBS = 16;       // referenced-but-not-loaded traces drawn as stubs
  const ORDERS_LIMIT = 50;
  const BUSINESS_KEYS = ['client.order_id', 'batch.id', 'exchange.order_id', 'fill.id'];

  const state = {
    query: null,        // the id whose lineage is shown
    data: null,         // the /api/lineage answer
    model: null,        // derived lookups (see buildModel)
    selected: null,     // key "traceId/spanId" of the selected span
    loadSeq: 0,
    ordersSeq: 0,
    suggestSeq: 0,
  };

  // ---------------------------------------------------------------- small helpers

  const $ = (sel, root) => (root || document).querySelector(sel);

  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, kids);
  }
  function sv(tag, attrs, ...kids) {
    const el = document.createElementNS(SVGNS, tag);
    setAttrs(el, attrs);
    return append(el, kids);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  const keyOf = (traceId, spanId) => traceId + '/' + spanId;
  const short = (id, n) => (id && id.length > (n || 8) ? id.slice(0, n || 8) + '\u2026' : (id || ''));

  function fmtDur(us) {
    if (us === null || us === undefined || isNaN(us)) return '';
    const a = Math.abs(us);
    if (a < 1000) return Math.round(us) + ' \u00b5s';
    if (a < 1e6) return trim(us / 1000, a < 10000 ? 2 : a < 100000 ? 1 : 0) + ' ms';
    if (a < 60e6) return trim(us / 1e6, 2) + ' s';
    return trim(us / 60e6, 1) + ' min';
  }
  function trim(x, d) { const t = x.toFixed(d); return t.includes('.') ? t.replace(/\.?0+$/, '') : t; }

  function fmtTime(us) {
    if (!us && us !== 0) return '';
    const d = new Date(Math.floor(us / 1000));
    const p = (n, w) => String(n).padStart(w || 2, '0');
    const frac = p(((us % 1e6) + 1e6) % 1e6, 6);
    return d.getUTCFullYear() + '-' + p(d.getUTCMonth() + 1) + '-' + p(d.getUTCDate()) + ' ' +
      p(d.getUTCHours()) + ':' + p(d.getUTCMinutes()) + ':' + p(d.getUTCSeconds()) + '.' + frac + ' UTC';
  }
  function fmtClock(us) {
    const d = new Date(Math.floor(us / 1000));
    const p = (n, w) => String(n).padStart(w || 2, '0');
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
  }
  function fmtAgo(us) {
    const s = (Date.now() * 1000 - us) / 1e6;
    if (s < 0 || s > 86400 * 2) return null;
    if (s < 60) return Math.round(s) + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    return JSON.stringify(v);
  }

  // Service colors: fixed for the pipeline's services, hashed for anything else.
  const SERVICE_COLORS = {
    'gateway': '#2f6fdf', 'order-gateway': '#2f6fdf',
    'order-manager': '#8b5cf6',
    'algo': '#e07b00',
    'exchange-gateway': '#0d9488',
    'allocator': '#16a34a',
    'exchange-sim': '#64748b',
  };
  const PALETTE = ['#c026d3', '#0284c7', '#ca8a04', '#dc6b2f', '#4f46e5', '#059669', '#be185d', '#7c8798'];
  function serviceColor(name) {
    if (!name) return '#98a2b3';
    const n = String(name).toLowerCase();
    if (SERVICE_COLORS[n]) return SERVICE_COLORS[n];
    const stripped = n.replace(/^ordertrace[-_ ]/, '');
    if (SERVICE_COLORS[stripped]) return SERVICE_COLORS[stripped];
    let hash = 0;
    for (let i = 0; i < n.length; i++) hash = (hash * 31 + n.charCodeAt(i)) >>> 0;
    return PALETTE[hash % PALETTE.length];
  }

  const ROLE_COLORS = {
    'batched into': '#7c3aed',
    'allocated to': '#db2777',
    'filled by': '#0891b2',
    'matches': '#ca8a04',
    'split into': '#e07b00',
    'linked to': '#64748b',
  };
  const roleColor = (role) => ROLE_COLORS[role] || '#64748b';
  const MISSING_COLOR = '#dc2626';

  // Text width, measured with the SVG's font so boxes fit their names.
  const measureCtx = document.createElement('canvas').getContext('2d');
  let measureFontFamily = null;
  function textWidth(text, px, weight) {
    if (!measureFontFamily) {
      measureFontFamily = getComputedStyle(document.body).fontFamily || 'sans-serif';
    }
    measureCtx.font = (weight || 400) + ' ' + px + 'px ' + measureFontFamily;
    return measureCtx.measureText(text).width;
  }
  function fitText(text, px, maxWidth, weight) {
    if (textWidth(text, px, weight) <= maxWidth) return text;
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (textWidth(text.slice(0, mid) + '\u2026', px, weight) <= maxWidth) lo = mid; else hi = mid - 1;
    }
    return text.slice(0, Math.max(1, lo)) + '\u2026';
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path) {
    let res;
    try {
      res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'The explorer server cannot be reached.');
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      throw new ApiError(res.status, (body && body.error) || ('HTTP ' + res.status + ' ' + (res.statusText || '')).trim());
    }
    if (body === null || typeof body !== 'object') throw new ApiError(res.status, 'The server answered something that is not JSON.');
    return body;
  }

  // ---------------------------------------------------------------- status line

  function setStatus(text, kind) {
    const el = $('#status');
    el.textContent = text || '';
    el.className = kind || '';
    el.title = text || '';
  }

  // ---------------------------------------------------------------- routing

  function readRoute() {
    const hash = location.hash.replace(/^#/, '');
    let params = new URLSearchParams(hash);
    if (!params.get('id') && !hash) params = new URLSearchParams(location.search);
    const id = (params.get('id') || '').trim();
    return { id: id || null, span: params.get('span') || null };
  }

  function navigate(id, spanKey) {
    const p = new URLSearchParams();
    if (id) p.set('id', id);
    if (spanKey) p.set('span', spanKey.split('/').pop());
    const target = '#' + p.toString();
    if (target === location.hash) route();
    else location.hash = target;
  }

  function goHome() {
    history.pushState(null, '', location.pathname);
    route();
  }

  function replaceSpanInURL(spanKey) {
    const r = readRoute();
    if (!r.id) return;
    const p = new URLSearchParams();
    p.set('id', r.id);
    if (spanKey) p.set('span', spanKey.split('/').pop());
    history.replaceState(null, '', location.pathname + location.search + '#' + p.toString());
  }

  async function route() {
    const r = readRoute();
    const input = $('#search');
    if (document.activeElement !== input) input.value = r.id || '';
    hideSuggestions();
    if (!r.id) { showStart(); return; }
    if (state.data && state.query === r.id) {
      if (r.span) selectSpan(findSpanKey(r.span), { scroll: true, updateURL: false });
      return;
    }
    await loadLineage(r.id, r.span);
  }

  // ---------------------------------------------------------------- views

  function show(which) {
    $('#start').hidden = which !== 'start';
    $('#message').hidden = which !== 'message';
    $('#lineage').hidden = which !== 'lineage';
  }

  function showStart() {
    state.loadSeq++;
    state.query = null; state.data = null; state.model = null; state.selected = null;
    document.title = 'OrderTrace explorer';
    show('start');
    setStatus('');
    markActiveOrder();
    loadStats();
  }

  async function loadStats() {
    const el = $('#stats');
    try {
      const s = await api('/api/stats');
      const parts = [];
      if (typeof s.spans === 'number') parts.push(s.spans.toLocaleString('en-US') + ' spans');
      if (typeof s.traces === 'number') parts.push(s.traces.toLocaleString('en-US') + ' traces');
      if (typeof s.orders === 'number') parts.push(s.orders.toLocaleString('en-US') + ' client orders');
      el.textContent = parts.length ? 'Stored: ' + parts.join(' \u00b7 ') + (s.oldest ? ' since ' + fmtTime(s.oldest) : '') : '';
    } catch (e) {
      el.textContent = e.status === 0 ? 'The explorer server cannot be reached right now.' : '';
    }
  }

  function showMessage(title, text, isError, retry) {
    const el = clear($('#message'));
    el.className = isError ? 'error' : '';
    const button = retry ? h('button', { type: 'button', class: 'retry', text: 'Try again' }) : null;
    if (button) button.addEventListener('click', retry);
    append(el, [h('h2', { text: title }), text ? h('p', { text }) : null, button]);
    show('message');
  }

  async function loadLineage(id, spanId) {
    const seq = ++state.loadSeq;
    setStatus('loading ' + id + '\u2026', 'loading');
    markActiveOrder(id);
    let data;
    try {
      data = await api('/api/lineage?id=' + encodeURIComponent(id));
    } catch (e) {
      if (seq !== state.loadSeq) return;
      state.query = null; state.data = null; state.model = null; state.selected = null;
      if (e.status === 404) {
        setStatus('Nothing found for \u201c' + id + '\u201d', 'error');
        showMessage('Nothing found for \u201c' + id + '\u201d',
          'No stored span carries this id. Check the spelling, or the order may not have reached the explorer yet (its spans arrive a few seconds after the order).', true);
      } else if (e.status === 0) {
        setStatus('Server unreachable', 'error');
        showMessage('The explorer server cannot be reached',
          'Is \u201cordertrace explorer\u201d running? The page will work again once it answers.', true,
          () => { loadOrders(); loadLineage(id, spanId); });
      } else {
        setStatus('Error: ' + e.message, 'error');
        showMessage('The lineage of \u201c' + id + '\u201d could not be loaded', e.message, true);
      }
      return;
    }
    if (seq !== state.loadSeq) return;
    state.query = id;
    state.data = normalize(data);
    state.model = buildModel(state.data);
    state.selected = null;
    document.title = id + ' \u2013 OrderTrace explorer';
    renderLineage();
    show('lineage');
    const m = state.model;
    const parts = [m.spanCount + ' spans in ' + m.loadedTraces.length + ' trace' + (m.loadedTraces.length === 1 ? '' : 's')];
    if (m.unloadedTraces.length) parts.push(m.unloadedTraces.length + ' referenced, not loaded');
    const mp = m.missingParents.size, ml = m.missingLinks.size;
    if (mp) parts.push(mp + ' missing parent' + (mp === 1 ? '' : 's'));
    if (ml) parts.push(ml + ' missing link target' + (ml === 1 ? '' : 's'));
    if (state.data.truncated) parts.push('truncated at the server\u2019s limits');
    setStatus(parts.join(' \u00b7 '), state.data.truncated ? 'error' : '');

    // Select the span from the URL, or the span the query named.
    let key = spanId ? findSpanKey(spanId) : null;
    if (!key && /^[0-9a-f]{16}$/i.test(id)) key = findSpanKey(id.toLowerCase());
    if (key) selectSpan(key, { scroll: true, updateURL: false });
    else renderDetails(null);
  }

  function normalize(d) {
    d.traces = Array.isArray(d.traces) ? d.traces : [];
    d.spans = Array.isArray(d.spans) ? d.spans : [];
    d.edges = Array.isArray(d.edges) ? d.edges : [];
    d.orders = Array.isArray(d.orders) ? d.orders : [];
    d.matches = Array.isArray(d.matches) ? d.matches : [];
    d.missing = d.missing || {};
    d.missing.parents = Array.isArray(d.missing.parents) ? d.missing.parents : [];
    d.missing.links = Array.isArray(d.missing.links) ? d.missing.links : [];
    for (const s of d.spans) {
      s.attributes = s.attributes || {};
      s.events = Array.isArray(s.events) ? s.events : [];
      s.links = Array.isArray(s.links) ? s.links : [];
      s.parentSpanId = s.parentSpanId || '';
      s.duration = Math.max(0, Number(s.duration) || 0);
      s.start = Number(s.start) || 0;
    }
    return d;
  }

  function findSpanKey(spanId) {
    if (!state.model || !spanId) return null;
    if (state.model.spans.has(spanId)) return spanId;   // already a key
    return state.model.bySpanId.get(spanId) || null;
  }

  // ---------------------------------------------------------------- model

  function buildModel(d) {
    const spans = new Map();
    const bySpanId = new Map();
    const spansByTrace = new Map();
    for (const s of d.spans) {
      const k = keyOf(s.traceId, s.spanId);
      spans.set(k, s);
      if (!bySpanId.has(s.spanId)) bySpanId.set(s.spanId, k);
      if (!spansByTrace.has(s.traceId)) spansByTrace.set(s.traceId, []);
      spansByTrace.get(s.traceId).push(s);
    }
    const traces = new Map();
    for (const t of d.traces) traces.set(t.traceId, t);
    const ensureTrace = (traceId, loaded) => {
      if (!traces.has(traceId)) {
        traces.set(traceId, { traceId, kind: 'other', label: 'trace ' + short(traceId), loaded, seed: false,
          spanCount: loaded ? (spansByTrace.get(traceId) || []).length : 0, synthetic: true });
      }
      return traces.get(traceId);
    };
    for (const traceId of spansByTrace.keys()) ensureTrace(traceId, true);

    // Placeholders for what never arrived: parents (from missing.parents and from spans whose
    // parent is not in the answer) and link targets (missing.links and edge ends not in the answer).
    const missingParents = new Map();   // key -> {traceId, spanId, children: [span keys]}
    const missingLinks = new Map();     // key -> {traceId, spanId, referencedBy: [span keys]}
    const orphans = new Set();
    const addMissingParent = (traceId, spanId, childKey) => {
      const k = keyOf(traceId, spanId);
      if (spans.has(k)) return;
      if (!missingParents.has(k)) missingParents.set(k, { traceId, spanId, children: [] });
      const m = missingParents.get(k);
      if (childKey && !m.children.includes(childKey)) m.children.push(childKey);
      if (childKey) orphans.add(childKey);
    };
    for (const s of d.spans) {
      if (s.parentSpanId && !spans.has(keyOf(s.traceId, s.parentSpanId))) {
        addMissingParent(s.traceId, s.parentSpanId, keyOf(s.traceId, s.spanId));
      }
    }
    for (const m of d.missing.parents) {
      const child = m.referencedBy ? (spans.has(keyOf(m.traceId, m.referencedBy)) ? keyOf(m.traceId, m.referencedBy) : bySpanId.get(m.referencedBy)) : null;
      addMissingParent(m.traceId, m.spanId, child || null);
    }
    const addMissingLink = (traceId, spanId, holderKey) => {
      const k = keyOf(traceId, spanId);
      if (spans.has(k)) return;
      if (missingParents.has(k)) {   // the same absent span, already drawn as a parent placeholder
        return;
      }
      if (!missingLinks.has(k)) missingLinks.set(k, { traceId, spanId, referencedBy: [] });
      const m = missingLinks.get(k);
      if (holderKey && !m.referencedBy.includes(holderKey)) m.referencedBy.push(holderKey);
    };
    const serverStubs = new Set((d.traces || []).filter((t) => t && t.loaded === false).map((t) => t.traceId));
    const serverMissing = new Set(d.missing.links.map((m) => keyOf(m.traceId, m.spanId)));
    for (const m of d.missing.links) {
      addMissingLink(m.traceId, m.spanId, m.referencedBy ? bySpanId.get(m.referencedBy) || null : null);
    }

    // Edges, normalized; the server's first, then those implied by the placeholders.
    const edges = [];
    const edgeSeen = new Set();
    const pushEdge = (from, to, type, role, synthetic) => {
      const sig = from + '>' + to + '>' + type;
      if (edgeSeen.has(sig)) return;
      edgeSeen.add(sig);
      edges.push({ from, to, type, role: role || (type === 'parent' ? 'child of' : 'linked to'), synthetic: !!synthetic });
    };
    for (const e of d.edges) {
      if (!e || !e.from || !e.to) continue;
      const from = keyOf(e.from.traceId, e.from.spanId), to = keyOf(e.to.traceId, e.to.spanId);
      const type = e.type === 'parent' ? 'parent' : 'link';
      pushEdge(from, to, type, e.role, false);
      for (const [k, end] of [[from, e.from], [to, e.to]]) {
        if (spans.has(k) || missingParents.has(k)) continue;
        // A span of a trace that is only referenced (not loaded) but stored: drawn as its
        // trace's stub, not as missing. The server lists what never arrived in missing.links.
        if (type === 'link' && serverStubs.has(end.traceId) && !serverMissing.has(k)) continue;
        const other = k === from ? to : from;
        if (type === 'parent') addMissingParent(end.traceId, end.spanId, spans.has(other) ? other : null);
        else addMissingLink(end.traceId, end.spanId, spans.has(other) ? other : null);
      }
    }
    for (const [k, m] of missingParents) {
      for (const c of m.children) {
        if (!edgeSeen.has(c + '>' + k + '>parent') && !edgeSeen.has(k + '>' + c + '>parent')) pushEdge(c, k, 'parent', 'child of', true);
      }
    }
    for (const [k, m] of missingLinks) {
      for (const holder of m.referencedBy) {
        if (!edgeSeen.has(holder + '>' + k + '>link') && !edgeSeen.has(k + '>' + holder + '>link')) pushEdge(holder, k, 'link', 'linked to', true);
      }
    }
    for (const m of [...missingParents.values(), ...missingLinks.values()]) ensureTrace(m.traceId, false);
    for (const e of edges) {
      for (const k of [e.from, e.to]) ensureTrace(k.split('/')[0], spans.has(k));
    }

    const allTraces = [...traces.values()];
    const loadedTraces = allTraces.filter((t) => t.loaded !== false && (spansByTrace.get(t.traceId) || []).length > 0);
    const unloadedTraces = allTraces.filter((t) => !loadedTraces.includes(t));
    let minStart = Infinity, maxEnd = -Infinity;
    for (const s of d.spans) {
      minStart = Math.min(minStart, s.start);
      maxEnd = Math.max(maxEnd, s.start + s.duration);
    }

    // Children per span (parent/child inside a trace), ordered by start.
    const children = new Map();
    for (const s of d.spans) {
      if (!s.parentSpanId) continue;
      const pk = keyOf(s.traceId, s.parentSpanId);
      if (!children.has(pk)) children.set(pk, []);
      children.get(pk).push(keyOf(s.traceId, s.spanId));
    }
    for (const list of children.values()) list.sort((a, b) => spans.get(a).start - spans.get(b).start);

    // Rows of each loaded trace: depth-first, roots and placeholder roots by start time.
    const rows = new Map();   // traceId -> [{key, depth, kind: 'span'|'missing-parent'|'missing-link'}]
    for (const t of loadedTraces) {
      const list = spansByTrace.get(t.traceId);
      const roots = [];
      for (const s of list) {
        if (!s.parentSpanId) roots.push({ key: keyOf(s.traceId, s.spanId), kind: 'span', at: s.start });
      }
      for (const [k, m] of missingParents) {
        if (m.traceId !== t.traceId) continue;
        const at = Math.min(...m.children.map((c) => (spans.get(c) || { start: Infinity }).start));
        roots.push({ key: k, kind: 'missing-parent', at: isFinite(at) ? at : Infinity });
      }
      roots.sort((a, b) => a.at - b.at);
      const out = [];
      const seen = new Set();
      const walk = (key, depth, kind) => {
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ key, depth, kind });
        for (const c of children.get(key) || []) walk(c, depth + 1, 'span');
      };
      for (const r of roots) walk(r.key, 0, r.kind);
      for (const s of list) walk(keyOf(s.traceId, s.spanId), 0, 'span');   // cycles or oddities: never drop a span
      for (const [k, m] of missingLinks) {
        if (m.traceId === t.traceId && !seen.has(k)) { seen.add(k); out.push({ key: k, depth: 0, kind: 'missing-link' }); }
      }
      rows.set(t.traceId, out);
    }

    const linksFrom = new Map(), linksTo = new Map();
    for (const e of edges) {
      if (e.type !== 'link') continue;
      if (!linksFrom.has(e.from)) linksFrom.set(e.from, []);
      linksFrom.get(e.from).push(e);
      if (!linksTo.has(e.to)) linksTo.set(e.to, []);
      linksTo.get(e.to).push(e);
    }

    return {
      spans, bySpanId, spansByTrace, traces, edges, rows, children, orphans,
      missingParents, missingLinks, loadedTraces, unloadedTraces, linksFrom, linksTo,
      spanCount: d.spans.length, minStart: isFinite(minStart) ? minStart : 0, maxEnd: isFinite(maxEnd) ? maxEnd : 0,
    };
  }

  // Which traces get a column, and in what order: the seeds, the batches, the other orders
  // (that is also the priority when there are more than MAX_COLUMNS); displayed with the batch
  // in the middle so the links from it to its member orders stay short.
  function arrangeColumns(m) {
    const byStart = (a, b) => (a.start || 0) - (b.start || 0) || a.traceId.localeCompare(b.traceId);
    const loaded = m.loadedTraces.slice();
    const seedFirst = (a, b) => (b.seed ? 1 : 0) - (a.seed ? 1 : 0) || byStart(a, b);
    const batches = loaded.filter((t) => t.kind === 'batch').sort(seedFirst);
    const seeds = loaded.filter((t) => t.seed && t.kind !== 'batch').sort(byStart);
    const orders = loaded.filter((t) => !t.seed && t.kind === 'order').sort(byStart);
    const others = loaded.filter((t) => !t.seed && t.kind !== 'batch' && t.kind !== 'order').sort(byStart);
    const priority = [...batches.slice(0, Math.max(1, MAX_COLUMNS >> 2)), ...seeds, ...batches.slice(Math.max(1, MAX_COLUMNS >> 2)), ...orders, ...others];
    const drawn = priority.slice(0, MAX_COLUMNS);
    const hidden = priority.slice(MAX_COLUMNS);
    const hubs = drawn.filter((t) => t.kind === 'batch');
    // The rest alternate left and right of the batches, seeds nearest.
    drawn.sort((a, b) => (a.kind === 'batch' ? 0 : 1) - (b.kind === 'batch' ? 0 : 1) || (b.seed ? 1 : 0) - (a.seed ? 1 : 0));
    let display;
    if (hubs.length && hubs.length < drawn.length) {
      const rest = drawn.filter((t) => t.kind !== 'batch');
      const left = [], right = [];
      rest.forEach((t, i) => (i % 2 === 0 ? left : right).push(t));
      display = [...left.reverse(), ...hubs, ...right];
    } else {
      display = drawn;
    }
    return { display, hidden };
  }

  // ---------------------------------------------------------------- rendering: lineage

  function renderLineage() {
    const d = state.data, m = state.model;
    const title = clear($('#lineage-title'));
    append(title, ['Lineage of ', h('code', { text: state.query })]);
    const matches = clear($('#matches'));
    if (d.matches.length) {
      append(matches, ['matched ']);
      for (const x of d.matches.slice(0, 6)) {
        const t = m.traces.get(x.traceId);
        append(matches, [h('span', { class: 'pill', title: x.traceId, text: x.key + ' in ' + (t ? t.label : short(x.traceId)) })]);
      }
      if (d.matches.length > 6) append(matches, ['+' + (d.matches.length - 6) + ' more']);
    }
    renderCompleteness();
    renderLegend();
    renderGraph();
    renderTimeline();
  }

  function renderLegend() {
    const el = clear($('#legend'));
    const services = [...new Set(state.data.spans.map((s) => s.service || ''))].filter(Boolean);
    const order = ['gateway', 'order-gateway', 'order-manager', 'algo', 'exchange-gateway', 'allocator'];
    services.sort((a, b) => ((order.indexOf(a) + 1) || 99) - ((order.indexOf(b) + 1) || 99) || a.localeCompare(b));
    for (const s of services) {
      append(el, [h('span', { class: 'item' }, h('span', { class: 'swatch', style: 'background:' + serviceColor(s) }), s)]);
    }
    const roles = [...new Set(state.model.edges.filter((e) => e.type === 'link').map((e) => e.role))];
    if (roles.length) append(el, [h('span', { class: 'sep' })]);
    for (const r of roles) {
      const line = sv('svg', { width: 22, height: 8 }, sv('line', { x1: 0, y1: 4, x2: 22, y2: 4, stroke: roleColor(r), 'stroke-width': 1.6, 'stroke-dasharray': '5 3' }));
      append(el, [h('span', { class: 'item' }, line, r)]);
    }
    if (state.model.missingParents.size || state.model.missingLinks.size) {
      const box = sv('svg', { width: 14, height: 11 }, sv('rect', { x: 0.5, y: 0.5, width: 13, height: 10, rx: 2, fill: '#fff1f1', stroke: MISSING_COLOR, 'stroke-dasharray': '3 2' }));
      append(el, [h('span', { class: 'item' }, box, 'never arrived')]);
    }
  }

  const G = { rowH: 27, boxH: 21, indent: 9, headH: 48, gap: 108, stubGap: 72, pad: 14, stubW: 150, nameFont: 11, durFont: 10 };

  function renderGraph() {
    const m = state.model;
    const host = clear($('#graph'));
    const { display, hidden } = arrangeColumns(m);

    // Column geometry.
    const columns = [];
    let x = G.pad;
    for (const t of display) {
      const rows = m.rows.get(t.traceId) || [];
      let width = Math.max(190, textWidth(t.label || '', 12.5, 650) + 40);
      for (const r of rows) {
        let label;
        if (r.kind === 'span') {
          const s = m.spans.get(r.key);
          label = textWidth(s.name, G.nameFont) + textWidth(fmtDur(s.duration), G.durFont) + 28;
        } else {
          label = textWidth('missing parent \u00b7 ' + short(r.key.split('/')[1]), 11) + 24;
        }
        width = Math.max(width, r.depth * G.indent + label);
      }
      width = Math.min(Math.ceil(width), 400);
      columns.push({ trace: t, x, width, rows, kind: 'trace' });
      x += width + G.gap;
    }
    // Referenced traces that are not loaded: one stub column at the end.
    const stubTraces = m.unloadedTraces.slice(0, MAX_STUBS);
    if (stubTraces.length && columns.length) x += G.stubGap - G.gap;
    const stubColumn = stubTraces.length ? { x, width: G.stubW, kind: 'stubs', traces: stubTraces } : null;
    if (stubColumn) x += G.stubW + G.gap;
    const width = Math.max(x - G.gap + G.pad, 400);

    // Node positions.
    const nodes = new Map();   // key -> {x, y, w, h, col, kind}
    let maxY = G.headH + G.boxH;
    columns.forEach((c, ci) => {
      c.rows.forEach((r, ri) => {
        const nx = c.x + r.depth * G.indent;
        const ny = G.headH + ri * G.rowH;
        nodes.set(r.key, { x: nx, y: ny, w: c.width - r.depth * G.indent, h: G.boxH, col: ci, kind: r.kind, depth: r.depth });
        maxY = Math.max(maxY, ny + G.boxH);
      });
    });
    const stubNodes = new Map();   // traceId -> node of the stub header
    if (stubColumn) {
      const ci = columns.length;
      let y = G.headH;
      for (const t of stubColumn.traces) {
        stubNodes.set(t.traceId, { x: stubColumn.x, y, w: G.stubW, h: 34, col: ci, kind: 'stub' });
        y += 34 + 6;
        const targets = [...m.missingLinks.values(), ...m.missingParents.values()].filter((x) => x.traceId === t.traceId);
        for (const tg of targets) {
          const k = keyOf(tg.traceId, tg.spanId);
          nodes.set(k, { x: stubColumn.x + 10, y, w: G.stubW - 10, h: G.boxH, col: ci, kind: m.missingLinks.has(k) ? 'missing-link' : 'missing-parent' });
          y += G.rowH;
        }
        // Edge ends in this trace that are neither spans nor listed as missing.
        y += 8;
      }
      maxY = Math.max(maxY, y);
    }
    const height = maxY + G.pad + 24;

    const svg = sv('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'Lineage graph' });
    const defs = sv('defs');
    const markerIds = new Map();
    const marker = (color) => {
      if (!markerIds.has(color)) {
        const id = 'arrow-' + markerIds.size;
        markerIds.set(color, id);
        defs.appendChild(sv('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 9, markerHeight: 9, orient: 'auto-start-reverse' },
          sv('path', { d: 'M0,1 L9,5 L0,9 z', fill: color })));
      }
      return 'url(#' + markerIds.get(color) + ')';
    };
    svg.appendChild(defs);

    // Column bands and headers.
    const layerBands = sv('g', { class: 'bands' });
    const layerParents = sv('g', { class: 'edges-parent' });
    const layerBoxes = sv('g', { class: 'boxes' });
    const layerLinks = sv('g', { class: 'edges-link' });
    append(svg, [layerBands, layerParents, layerBoxes, layerLinks]);

    for (const c of columns) {
      const t = c.trace;
      append(layerBands, [sv('rect', { class: 'col-band' + (t.seed ? ' seed' : ''), x: c.x - 8, y: 6, width: c.width + 16, height: height - 12, rx: 8 })]);
      const sub = [t.kind, (t.spanCount || c.rows.filter((r) => r.kind === 'span').length) + ' spans', short(t.traceId, 12)];
      if (t.start && t.end) sub.push(fmtDur(t.end - t.start));
      const head = sv('g', { class: 'col-head', 'data-trace-id': t.traceId, transform: 'translate(' + c.x + ',' + 0 + ')' },
        sv('title', { text: 'Trace ' + t.traceId + '\nClick to show the lineage of this trace' }),
        sv('text', { class: 't1', x: 2, y: 22, text: fitText((t.seed ? '\u2605 ' : '') + (t.label || short(t.traceId)), 12.5, c.width, 650) }),
        sv('text', { class: 't2', x: 2, y: 37, text: fitText(sub.join(' \u00b7 '), 10.5, c.width) }));
      head.addEventListener('click', () => navigate(t.traceId));
      layerBoxes.appendChild(head);
    }
    if (stubColumn) {
      append(layerBands, [sv('rect', { class: 'col-band', x: stubColumn.x - 8, y: 6, width: stubColumn.width + 16, height: height - 12, rx: 8 })]);
      append(layerBoxes, [sv('g', { class: 'col-head' },
        sv('text', { class: 't1', x: stubColumn.x + 2, y: 22, text: 'Referenced traces' }),
        sv('text', { class: 't2', x: stubColumn.x + 2, y: 37, text: 'not loaded' + (m.unloadedTraces.length > MAX_STUBS ? ' \u00b7 +' + (m.unloadedTraces.length - MAX_STUBS) + ' more' : '') }))]);
    }

    // Span boxes and placeholders.
    for (const c of columns) {
      for (const r of c.rows) {
        const n = nodes.get(r.key);
        if (r.kind === 'span') layerBoxes.appendChild(spanBox(m.spans.get(r.key), n));
        else layerBoxes.appendChild(missingBox(r.key, n, r.kind));
      }
    }
    if (stubColumn) {
      for (const t of stubColumn.traces) {
        const n = stubNodes.get(t.traceId);
        const g = sv('g', { class: 'stub', 'data-trace-id': t.traceId, transform: 'translate(' + n.x + ',' + n.y + ')' },
          sv('title', { text: 'Trace ' + t.traceId + ' is referenced but its spans are not in this answer.\nClick to look it up.' }),
          sv('rect', { class: 'bg', x: 0.5, y: 0.5, width: n.w - 1, height: n.h - 1, rx: 5 }),
          sv('text', { x: 8, y: 14, text: fitText(t.label && !t.synthetic ? t.label : 'trace ' + short(t.traceId, 12), 11, n.w - 16) }),
          sv('text', { class: 't2', x: 8, y: 27, text: 'not loaded \u00b7 ' + short(t.traceId, 16) }));
        g.addEventListener('click', () => navigate(t.traceId));
        layerBoxes.appendChild(g);
        for (const [k, node] of nodes) {
          if (node.col === columns.length && k.startsWith(t.traceId + '/')) layerBoxes.appendChild(missingBox(k, node, node.kind));
        }
      }
    }

    // Edges.
    const labels = [];
    let skipped = 0;
    for (const e of m.edges) {
      const a = nodes.get(e.from) || stubNodes.get(e.from.split('/')[0]), b = nodes.get(e.to) || stubNodes.get(e.to.split('/')[0]);
      if (!a || !b) { skipped++; continue; }
      if (e.type === 'parent') layerParents.appendChild(parentEdge(e, a, b));
      else layerLinks.appendChild(linkEdge(e, a, b, marker, labels));
    }

    // What is not drawn.
    const notes = [];
    if (hidden.length) {
      const hiddenSpans = hidden.reduce((n, t) => n + (m.spansByTrace.get(t.traceId) || []).length, 0);
      notes.push('+' + hidden.length + ' more trace' + (hidden.length === 1 ? '' : 's') + ' (' + hiddenSpans + ' spans) not drawn: ' +
        hidden.slice(0, 5).map((t) => t.label || short(t.traceId)).join(', ') + (hidden.length > 5 ? ', \u2026' : '') + '. Search one of them to see its own lineage.');
    }
    if (m.unloadedTraces.length > MAX_STUBS) notes.push('+' + (m.unloadedTraces.length - MAX_STUBS) + ' more referenced traces not shown.');
    if (state.data.truncated) notes.push('The server cut this lineage at its limits (' + (state.data.limits ? state.data.limits.maxTraces + ' traces, ' + state.data.limits.maxSpans + ' spans' : 'limits') + '): some connected traces are not in it.');
    const note = $('#graph-note');
    note.hidden = !notes.length;
    note.textContent = notes.join(' ');
    if (hidden.length) {
      svg.appendChild(sv('text', { class: 'note', x: G.pad, y: height - 10, text: '+' + hidden.length + ' more trace' + (hidden.length === 1 ? '' : 's') + ' not drawn' }));
    }

    host.appendChild(svg);
    state.graphSkippedEdges = skipped;

    // Start scrolled to the trace the query matched first.
    const primary = state.data.matches.length ? state.data.matches[0].traceId : null;
    const pc = columns.find((c) => c.trace.traceId === primary);
    if (pc && pc.x + pc.width > host.clientWidth) {
      host.scrollLeft = Math.max(0, pc.x + pc.width / 2 - host.clientWidth / 2);
    }
  }

  function spanBox(s, n) {
    const key = keyOf(s.traceId, s.spanId);
    const color = serviceColor(s.service);
    const cls = ['span'];
    if (state.model.orphans.has(key)) cls.push('orphan');
    if (s.status === 'error') cls.push('status-error');
    const dur = fmtDur(s.duration);
    const durW = textWidth(dur, G.durFont);
    const name = fitText(s.name || '(unnamed)', G.nameFont, n.w - durW - 22);
    const g = sv('g', { class: cls.join(' '), 'data-span-id': s.spanId, 'data-trace-id': s.traceId, transform: 'translate(' + n.x + ',' + n.y + ')' },
      sv('title', { text: s.name + '\n' + (s.service || '?') + ' \u00b7 ' + s.kind + ' \u00b7 ' + dur + (s.status === 'error' ? ' \u00b7 ERROR' : '') +
        (state.model.orphans.has(key) ? '\nIts parent span never arrived.' : '') }),
      sv('rect', { class: 'bg', x: 0.5, y: 0.5, width: n.w - 1, height: n.h - 1, rx: 4, fill: tint(color, 0.13), stroke: tint(color, 0.55) }),
      sv('rect', { class: 'stripe', x: 0.5, y: 0.5, width: 4, height: n.h - 1, rx: 2, fill: color }),
      sv('text', { class: 'name', x: 10, y: 14.5, text: (s.status === 'error' ? '\u26a0 ' : '') + name }),
      sv('text', { class: 'dur', x: n.w - 7, y: 14.5, 'text-anchor': 'end', text: dur }));
    g.addEventListener('click', () => selectSpan(key, { scroll: false, source: 'graph' }));
    return g;
  }

  function missingBox(key, n, kind) {
    const [traceId, spanId] = key.split('/');
    const what = kind === 'missing-parent' ? 'missing parent' : 'missing link target';
    const g = sv('g', { class: 'missing ' + kind, 'data-span-id': spanId, 'data-trace-id': traceId, transform: 'translate(' + n.x + ',' + n.y + ')' },
      sv('title', { text: 'Span ' + spanId + ' of trace ' + traceId + ' never arrived (' + what + ').' }),
      sv('rect', { class: 'bg', x: 0.5, y: 0.5, width: n.w - 1, height: n.h - 1, rx: 4 }),
      sv('text', { x: 9, y: 14.5, text: fitText(what + ' \u00b7 ' + short(spanId, 12), 11, n.w - 16) }));
    g.addEventListener('click', () => selectMissing(key, kind));
    return g;
  }

  function parentEdge(e, a, b) {
    // a is the edge's "from", b its "to"; draw the tree connector from the parent down to the child.
    const spanA = state.model.spans.get(e.from);
    const bId = e.to.split('/')[1];
    let parent = b, child = a;
    if (spanA && spanA.parentSpanId === bId) { parent = b; child = a; }
    else {
      const spanB = state.model.spans.get(e.to);
      const aId = e.from.split('/')[1];
      if (spanB && spanB.parentSpanId === aId) { parent = a; child = b; }
      else if (a.y > b.y) { parent = b; child = a; } else { parent = a; child = b; }
    }
    const missing = parent.kind !== 'span' || child.kind !== 'span' || e.synthetic;
    let d;
    if (parent.col === child.col) {
      const x0 = parent.x + 6, y0 = parent.y + parent.h, y1 = child.y + child.h / 2;
      d = 'M' + x0 + ',' + y0 + ' V' + y1 + ' H' + child.x;
    } else {
      d = curve(parent, child).d;
    }
    return sv('g', { class: 'edge edge-parent' + (missing ? ' edge-missing' : ''), 'data-role': e.role, 'data-from': e.from, 'data-to': e.to },
      sv('title', { text: e.role }),
      sv('path', { d }));
  }

  function curve(a, b) {
    const ay = a.y + a.h / 2, by = b.y + b.h / 2;
    if (a.col === b.col) {
      const x0 = a.x + a.w, x1 = b.x + b.w;
      const bulge = 34 + Math.min(70, Math.abs(by - ay) * 0.12);
      const xm = Math.max(x0, x1) + bulge;
      return { d: 'M' + x0 + ',' + ay + ' C' + xm + ',' + ay + ' ' + xm + ',' + by + ' ' + x1 + ',' + by, mx: xm - bulge * 0.25, my: (ay + by) / 2 };
    }
    let x0, x1;
    if (a.col < b.col) { x0 = a.x + a.w; x1 = b.x; } else { x0 = a.x; x1 = b.x + b.w; }
    const dx = (x1 - x0) * 0.5;
    const c1x = x0 + dx, c2x = x1 - dx;
    // Bezier midpoint (t = 0.5).
    const mx = 0.125 * x0 + 0.375 * c1x + 0.375 * c2x + 0.125 * x1;
    const my = 0.5 * ay + 0.5 * by;
    return { d: 'M' + x0 + ',' + ay + ' C' + c1x + ',' + ay + ' ' + c2x + ',' + by + ' ' + x1 + ',' + by, mx, my };
  }

  function linkEdge(e, a, b, marker, labels) {
    const missing = String(a.kind).startsWith('missing') || String(b.kind).startsWith('missing');
    const color = missing ? MISSING_COLOR : roleColor(e.role);
    const c = curve(a, b);
    const far = Math.abs(a.col - b.col) > 1;
    const g = sv('g', { class: 'edge edge-link' + (far ? ' edge-far' : '') + (missing ? ' edge-missing' : ''), 'data-role': e.role, 'data-from': e.from, 'data-to': e.to },
      sv('title', { text: e.role + (missing ? ' (target never arrived)' : '') }),
      sv('path', { d: c.d, stroke: color, 'marker-end': marker(color) }));
    // Label at the curve's middle, nudged off labels already placed.
    const text = e.role;
    const w = textWidth(text, 10, 600) + 6, hgt = 12;
    let lx = c.mx, ly = c.my;
    if (!far) {
      for (let i = 0; i < 12; i++) {
        const hit = labels.some((l) => Math.abs(l.x - lx) < (l.w + w) / 2 && Math.abs(l.y - ly) < hgt);
        if (!hit) break;
        ly = c.my + (i % 2 === 0 ? 1 : -1) * Math.ceil((i + 1) / 2) * hgt;
      }
      labels.push({ x: lx, y: ly, w });
    }
    g.appendChild(sv('text', { class: 'edge-label', x: lx, y: ly + 3.5, 'text-anchor': 'middle', fill: color, text }));
    return g;
  }

  function tint(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    const mix = (c) => Math.round(255 - (255 - c) * alpha);
    return 'rgb(' + mix(r) + ',' + mix(g) + ',' + mix(b) + ')';
  }

  // ---------------------------------------------------------------- rendering: timeline

  function renderTimeline() {
    const m = state.model;
    const host = clear($('#timeline'));
    const { display, hidden } = arrangeColumns(m);
    // Seed first, then by start.
    const groups = display.slice().sort((a, b) => (b.seed ? 1 : 0) - (a.seed ? 1 : 0) || (a.start || 0) - (b.start || 0));
    const shownSpans = groups.flatMap((t) => m.spansByTrace.get(t.traceId) || []);
    if (!shownSpans.length) { host.appendChild(h('p', { class: 'sub', text: 'No spans.' })); return; }
    const t0 = Math.min(...shownSpans.map((s) => s.start));
    const t1 = Math.max(...shownSpans.map((s) => s.start + s.duration));
    const range = Math.max(1, t1 - t0);
    const pct = (us) => ((us - t0) / range) * 100;

    const step = niceStep(range / 7);
    const ticks = [];
    for (let t = 0; t <= range + 1e-6; t += step) ticks.push(t);
    const axis = h('div', { class: 'tl-axis' }, ticks.map((t) => h('div', { class: 'tick', style: 'left:' + (t / range * 100) + '%', text: t === 0 ? '0' : fmtDur(t) })));
    host.appendChild(h('div', { class: 'tl-head' }, h('div', { class: 'lbl', text: 'span \u00b7 service', title: 'Times from the first span, ' + fmtTime(t0) }), axis));
    const body = h('div', { class: 'tl-body' });
    body.appendChild(h('div', { class: 'tl-grid' }, ticks.map((t) => h('div', { style: 'left:' + (t / range * 100) + '%' }))));

    for (const t of groups) {
      const rows = (m.rows.get(t.traceId) || []).filter((r) => r.kind === 'span');
      const group = h('div', { class: 'tl-group', 'data-trace-id': t.traceId });
      const spansHere = rows.map((r) => m.spans.get(r.key));
      const gs = Math.min(...spansHere.map((s) => s.start)), ge = Math.max(...spansHere.map((s) => s.start + s.duration));
      const header = h('div', { class: 'timeline-group' + (t.seed ? ' seed' : ''), title: 'Trace ' + t.traceId + ' \u2014 click to fold' },
        h('span', { class: 'caret', text: '\u25be' }),
        h('span', { class: 't1', text: (t.seed ? '\u2605 ' : '') + (t.label || short(t.traceId)) }),
        h('span', { class: 'sub', text: t.kind + ' \u00b7 ' + rows.length + ' spans \u00b7 ' + fmtDur(ge - gs) + ' \u00b7 ' + t.traceId }));
      header.addEventListener('click', () => group.classList.toggle('collapsed'));
      group.appendChild(header);
      for (const r of rows) {
        const s = m.spans.get(r.key);
        const color = serviceColor(s.service);
        const left = pct(s.start), w = Math.max(0, (s.duration / range) * 100);
        const end = left + w;
        const durLabel = h('span', { class: 'tl-dur', text: fmtDur(s.duration) });
        if (end > 82) durLabel.style.right = 'calc(' + (100 - left) + '% + 4px)';
        else durLabel.style.left = 'calc(' + end + '% + 4px)';
        const cls = ['timeline-row'];
        if (m.orphans.has(r.key)) cls.push('orphan');
        if (s.status === 'error') cls.push('status-error');
        const row = h('div', { class: cls.join(' '), 'data-span-id': s.spanId, 'data-trace-id': s.traceId,
          title: s.name + ' \u00b7 ' + (s.service || '?') + ' \u00b7 ' + fmtDur(s.duration) + ' \u00b7 +' + fmtDur(s.start - t0) + (m.orphans.has(r.key) ? '\nIts parent span never arrived.' : '') },
          h('div', { class: 'lbl', style: 'padding-left:' + (6 + Math.min(r.depth, 12) * 8) + 'px' },
            h('span', { class: 'dot', style: 'background:' + color }),
            h('span', { class: 'nm', text: s.name }),
            h('span', { class: 'svc', text: s.service || '' })),
          h('div', { class: 'tl-track' },
            h('div', { class: 'tl-bar', style: 'left:' + left + '%;width:' + w + '%;background:' + color }),
            s.events.filter((ev) => ev.time).map((ev) => h('div', { class: 'tl-ev', title: ev.name + ' at +' + fmtDur(ev.time - s.start), style: 'left:' + pct(ev.time) + '%' })),
            durLabel));
        row.addEventListener('click', () => selectSpan(r.key, { scroll: false, source: 'timeline' }));
        group.appendChild(row);
      }
      body.appendChild(group);
    }
    host.appendChild(body);
    if (hidden.length) host.appendChild(h('p', { class: 'sub', text: '+' + hidden.length + ' more trace' + (hidden.length === 1 ? '' : 's') + ' not shown.' }));
  }

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    for (const f of [1, 2, 2.5, 5, 10]) if (raw <= f * p) return f * p;
    return 10 * p;
  }

  // ---------------------------------------------------------------- selection and details

  function selectSpan(key, opts) {
    opts = opts || {};
    if (!key || !state.model || !state.model.spans.has(key)) return;
    state.selected = key;
    const [traceId, spanId] = key.split('/');
    for (const el of document.querySelectorAll('#graph .span.selected, #timeline .timeline-row.selected')) el.classList.remove('selected');
    for (const el of document.querySelectorAll('#graph .edge.hl')) el.classList.remove('hl');
    const sel = '[data-span-id="' + spanId + '"][data-trace-id="' + traceId + '"]';
    const box = document.querySelector('#graph .span' + sel);
    const row = document.querySelector('#timeline .timeline-row' + sel);
    if (box) box.classList.add('selected');
    if (row) row.classList.add('selected');
    for (const el of document.querySelectorAll('#graph .edge')) {
      if (el.getAttribute('data-from') === key || el.getAttribute('data-to') === key) el.classList.add('hl');
    }
    renderDetails(key);
    if (opts.updateURL !== false) replaceSpanInURL(key);
    if (opts.scroll) {
      if (box && opts.source !== 'graph') scrollIntoViewIn($('#graph'), box);
      if (row && opts.source !== 'timeline') {
        const group = row.closest('.tl-group');
        if (group) group.classList.remove('collapsed');
      }
    }
  }

  function scrollIntoViewIn(container, el) {
    const c = container.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.left < c.left || r.right > c.right) container.scrollLeft += r.left - c.left - c.width / 2 + r.width / 2;
    if (r.top < c.top || r.bottom > c.bottom) container.scrollTop += r.top - c.top - c.height / 2 + r.height / 2;
    const main = $('#main'), mr = main.getBoundingClientRect(), cr = container.getBoundingClientRect();
    if (cr.top < mr.top || cr.top > mr.bottom - 80) main.scrollTop += cr.top - mr.top - 20;
  }

  function selectMissing(key, kind) {
    state.selected = null;
    for (const el of document.querySelectorAll('#graph .span.selected, #timeline .timeline-row.selected')) el.classList.remove('selected');
    const m = state.model;
    const [traceId, spanId] = key.split('/');
    const info = kind === 'missing-parent' ? m.missingParents.get(key) : m.missingLinks.get(key);
    const refs = info ? (info.children || info.referencedBy || []) : [];
    for (const e of document.querySelectorAll('#graph .edge.hl')) e.classList.remove('hl');
    for (const e of document.querySelectorAll('#graph .edge')) {
      if (e.getAttribute('data-from') === key || e.getAttribute('data-to') === key) e.classList.add('hl');
    }
    const el = clear($('#details'));
    $('#work').classList.add('has-details');
    detailsHeader(el);
    append(el, [
      h('div', { class: 'd-title', text: kind === 'missing-parent' ? 'Missing parent span' : 'Missing link target' }),
      h('p', { class: 'warn', text: 'This span never arrived at the explorer: it was not exported, was dropped on the way, or its service is not sending traces here.' }),
      h('table', {}, h('tbody', {}, kvRow('trace id', traceId), kvRow('span id', spanId))),
      h('h3', { text: kind === 'missing-parent' ? 'Children that point to it' : 'Spans that link to it' }),
      refs.length ? refs.map((r) => spanLink(r)) : h('p', { class: 'none', text: 'unknown' }),
      h('p', {}, h('a', { href: '#id=' + encodeURIComponent(traceId), text: 'Look up trace ' + short(traceId, 12) })),
    ]);
  }

  function kvRow(k, v, opts) {
    const value = h('td', { class: 'v' });
    if (opts && opts.link) value.appendChild(h('a', { href: '#id=' + encodeURIComponent(v), text: fmtValue(v), title: 'Show the lineage of ' + fmtValue(v) }));
    else if (opts && opts.node) value.appendChild(opts.node);
    else value.textContent = fmtValue(v);
    return h('tr', {}, h('td', { text: k }), value);
  }

  function spanLink(key) {
    const s = state.model.spans.get(key);
    if (!s) return h('div', { class: 'kv', text: key });
    const a = h('a', { href: '#', text: s.name });
    a.addEventListener('click', (ev) => { ev.preventDefault(); selectSpan(key, { scroll: true }); });
    return h('div', {}, a, h('span', { class: 'sub', text: ' \u00b7 ' + (s.service || '') + ' \u00b7 ' + short(s.spanId, 16) }));
  }

  function detailsHeader(el) {
    const close = h('button', { type: 'button', class: 'close', title: 'Close', 'aria-label': 'Close the details', text: '\u00d7' });
    close.addEventListener('click', () => clearSelection());
    append(el, [h('div', { class: 'd-head' }, h('h2', { text: 'Span details' }), close)]);
  }

  function clearSelection() {
    state.selected = null;
    for (const el of document.querySelectorAll('#graph .span.selected, #timeline .timeline-row.selected')) el.classList.remove('selected');
    for (const el of document.querySelectorAll('#graph .edge.hl')) el.classList.remove('hl');
    replaceSpanInURL(null);
    renderDetails(null);
  }

  function renderDetails(key) {
    const el = clear($('#details'));
    const m = state.model;
    const has = !!(key && m && m.spans.has(key));
    $('#work').classList.toggle('has-details', has);
    if (!has) {
      append(el, [h('h2', { text: 'Span details' }), h('p', { class: 'hint', text: 'Click a span in the graph or the timeline to see its attributes, events and links.' })]);
      return;
    }
    const s = m.spans.get(key);
    const t = m.traces.get(s.traceId);
    const color = serviceColor(s.service);
    detailsHeader(el);
    append(el, [
      h('div', { class: 'd-title', text: s.name }),
      h('div', { class: 'd-sub' },
        h('span', { class: 'svc-chip' }, h('i', { style: 'background:' + color }), s.service || 'unknown service'),
        h('span', { class: 'pill', text: s.kind || 'unspecified' }),
        h('span', { class: 'pill' + (s.status === 'error' ? ' error' : s.status === 'ok' ? ' complete' : ''), text: 'status ' + (s.status || 'unset') })),
    ]);
    if (m.orphans.has(key)) append(el, [h('p', { class: 'warn', text: '\u26a0 Its parent span (' + s.parentSpanId + ') never arrived.' })]);
    if (s.status === 'error' && s.statusMessage) append(el, [h('p', { class: 'warn', text: s.statusMessage })]);

    const parentKey = s.parentSpanId ? keyOf(s.traceId, s.parentSpanId) : null;
    const parentNode = parentKey && m.spans.has(parentKey) ? spanLink(parentKey) : null;
    append(el, [h('table', {}, h('tbody', {},
      kvRow('duration', fmtDur(s.duration)),
      kvRow('start', fmtTime(s.start)),
      kvRow('offset', '+' + fmtDur(s.start - m.minStart) + ' from the first span'),
      kvRow('trace', (t ? t.label + ' ' : '')),
      kvRow('trace id', s.traceId, { link: true }),
      kvRow('span id', s.spanId),
      s.parentSpanId ? (parentNode ? kvRow('parent', null, { node: parentNode }) : kvRow('parent id', s.parentSpanId + ' (never arrived)')) : kvRow('parent', '(root)'),
      s.statusMessage && s.status !== 'error' ? kvRow('status message', s.statusMessage) : null))]);

    // Attributes.
    const keys = Object.keys(s.attributes).sort();
    append(el, [h('h3', { text: 'Attributes (' + keys.length + ')' })]);
    if (keys.length) {
      append(el, [h('table', { class: 'attrs' }, h('tbody', {}, keys.map((k) => kvRow(k, s.attributes[k], { link: BUSINESS_KEYS.includes(k) && typeof s.attributes[k] === 'string' }))))]);
    } else append(el, [h('p', { class: 'none', text: 'none' })]);

    // Events.
    append(el, [h('h3', { text: 'Events (' + s.events.length + ')' })]);
    if (!s.events.length) append(el, [h('p', { class: 'none', text: 'none' })]);
    for (const ev of s.events.slice().sort((a, b) => (a.time || 0) - (b.time || 0))) {
      const attrs = Object.keys(ev.attributes || {}).sort();
      append(el, [h('div', { class: 'ev' },
        h('div', { class: 'h' }, h('strong', { text: ev.name || '(event)' }), h('span', { class: 'sub', text: ev.time ? '+' + fmtDur(ev.time - s.start) : '' })),
        attrs.map((k) => h('div', { class: 'kv', text: k + ' = ' + fmtValue(ev.attributes[k]) })))]);
    }

    // Links: the span's own, with their role; then the links that point to it.
    const outEdges = m.linksFrom.get(key) || [];
    append(el, [h('h3', { text: 'Links (' + s.links.length + ')' })]);
    if (!s.links.length) append(el, [h('p', { class: 'none', text: 'none' })]);
    for (const l of s.links) {
      const tk = keyOf(l.traceId, l.spanId);
      const edge = outEdges.find((e) => e.to === tk);
      const isParent = l.spanId === s.parentSpanId && l.traceId === s.traceId;
      const role = edge ? edge.role : isParent ? 'its parent (producer)' : 'linked to';
      append(el, [linkCard(role, tk, l.attributes || {})]);
    }
    const inEdges = (m.linksTo.get(key) || []).filter((e) => !s.links.some((l) => keyOf(l.traceId, l.spanId) === e.from));
    if (inEdges.length) {
      append(el, [h('h3', { text: 'Linked from (' + inEdges.length + ')' })]);
      for (const e of inEdges) {
        const src = m.spans.get(e.from);
        const attrs = src ? ((src.links.find((l) => keyOf(l.traceId, l.spanId) === key) || {}).attributes || {}) : {};
        append(el, [linkCard(e.role, e.from, attrs, true)]);
      }
    }
    const kids = m.children.get(key) || [];
    if (kids.length) {
      append(el, [h('h3', { text: 'Children (' + kids.length + ')' })]);
      append(el, kids.map((k) => spanLink(k)));
    }
  }

  function linkCard(role, targetKey, attrs, incoming) {
    const m = state.model;
    const [traceId, spanId] = targetKey.split('/');
    const target = m.spans.get(targetKey);
    const missing = m.missingLinks.has(targetKey) || m.missingParents.has(targetKey);
    const color = missing ? MISSING_COLOR : roleColor(role);
    let anchor;
    if (target) {
      anchor = h('a', { href: '#', class: 'link-target', 'data-span-id': spanId, 'data-trace-id': traceId, text: target.name });
      anchor.addEventListener('click', (ev) => { ev.preventDefault(); selectSpan(targetKey, { scroll: true }); });
    } else {
      anchor = h('a', { href: '#id=' + encodeURIComponent(traceId), class: 'link-target', 'data-trace-id': traceId,
        text: (missing ? 'never arrived' : 'not loaded') + ' \u2014 search trace ' + short(traceId, 8) });
    }
    const t = m.traces.get(traceId);
    const keys = Object.keys(attrs).sort();
    return h('div', { class: 'lk' + (missing ? ' missing' : '') },
      h('div', { class: 'h' }, h('span', { class: 'role', style: 'color:' + color, text: incoming ? '\u2190 ' + role : role + ' \u2192' }),
        h('span', { class: 'sub', text: target ? (target.service || '') + (t ? ' \u00b7 ' + t.label : '') : (t ? t.label : '') })),
      h('div', {}, anchor),
      h('div', { class: 'ids', text: 'trace ' + traceId + ' span ' + spanId }),
      keys.map((k) => h('div', { class: 'kv', text: k + ' = ' + fmtValue(attrs[k]) })));
  }

  // ---------------------------------------------------------------- completeness

  function renderCompleteness() {
    const host = clear($('#completeness'));
    // Incomplete orders first, so they are seen even in a big batch.
    const orders = state.data.orders.slice().sort((a, b) => (a.complete ? 1 : 0) - (b.complete ? 1 : 0));
    if (!orders.length) {
      host.appendChild(h('p', { class: 'sub', text: 'No client order in this lineage.' }));
      return;
    }
    const mark = (ok, title) => h('span', { class: 'mark ' + (ok ? 'yes' : 'no'), title: title || '', text: ok ? '\u2713' : '\u2717' });
    const table = h('table', {},
      h('thead', {}, h('tr', {},
        ['client order', 'user'].map((x) => h('th', { text: x })),
        ['received', 'batched', 'sent to exchange', 'fills', 'updates delivered', 'completed'].map((x) => h('th', { class: 'c', text: x })),
        h('th', { text: 'status' }), h('th', { text: 'problems' }))));
    const tbody = h('tbody');
    for (const o of orders) {
      const oid = h('a', { href: '#id=' + encodeURIComponent(o.clientOrderId), class: 'oid', text: o.clientOrderId });
      const updates = o.updates || 0, delivered = o.updatesDelivered || 0;
      const problems = Array.isArray(o.problems) ? o.problems : [];
      tbody.appendChild(h('tr', { class: 'order-status', 'data-order-id': o.clientOrderId, 'data-complete': o.complete ? 'true' : 'false' },
        h('td', {}, oid, ' ', h('span', { class: 'pill ' + (o.complete ? 'complete' : 'incomplete'), text: o.complete ? 'complete' : 'incomplete' })),
        h('td', { text: o.userId || '' }),
        h('td', { class: 'c' }, mark(o.received)),
        h('td', { class: 'c' }, mark(o.batched), o.batchIds && o.batchIds.length ? h('span', { class: 'sub' }, ' ', o.batchIds.map((b, i) => [i ? ', ' : '', h('a', { href: '#id=' + encodeURIComponent(b), text: b })])) : null),
        h('td', { class: 'c' }, mark(o.sentToExchange)),
        h('td', { class: 'c' }, mark((o.fills || 0) > 0), ' ', h('span', { text: String(o.fills || 0) })),
        h('td', { class: 'c' }, mark(updates > 0 && delivered >= updates), ' ', h('span', { text: delivered + ' / ' + updates })),
        h('td', { class: 'c' }, mark(o.completed)),
        h('td', {}, o.status ? h('span', { class: 'pill ' + o.status, text: o.status }) : h('span', { class: 'none', text: '\u2014' })),
        h('td', { class: 'problems' }, problems.length ? h('ul', {}, problems.map((p) => h('li', {}, problemText(p)))) : h('span', { class: 'none', text: 'none' }))));
    }
    table.appendChild(tbody);
    const bad = orders.filter((o) => !o.complete).length;
    if (orders.length > 1) {
      host.appendChild(h('p', { class: 'summary' + (bad ? ' bad' : ''), text: bad ? bad + ' of ' + orders.length + ' client orders incomplete' : 'all ' + orders.length + ' client orders complete' }));
    }
    host.appendChild(h('div', { class: 'table-wrap' }, table));
  }

  // Problem texts name span ids: make the ones that are in the graph clickable.
  function problemText(p) {
    const out = [];
    const re = /\b[0-9a-f]{16}\b/g;
    let last = 0, mt;
    while ((mt = re.exec(p))) {
      out.push(p.slice(last, mt.index));
      const key = findSpanKey(mt[0]);
      if (key) {
        const a = h('a', { href: '#', text: mt[0] });
        a.addEventListener('click', (ev) => { ev.preventDefault(); selectSpan(key, { scroll: true }); });
        out.push(a);
      } else out.push(mt[0]);
      last = mt.index + mt[0].length;
    }
    out.push(p.slice(last));
    return out;
  }

  // ---------------------------------------------------------------- recent orders

  async function loadOrders() {
    const seq = ++state.ordersSeq;
    const host = $('#orders');
    const filter = $('#incomplete-only').checked ? 'incomplete' : 'all';
    let body;
    try {
      body = await api('/api/orders?filter=' + filter + '&limit=' + ORDERS_LIMIT);
    } catch (e) {
      if (seq !== state.ordersSeq) return;
      clear(host).appendChild(h('div', { class: 'error', text: e.status === 0 ? 'Server unreachable: the list will refresh when it answers.' : 'Could not load the orders: ' + e.message }));
      return;
    }
    if (seq !== state.ordersSeq) return;
    clear(host);
    const orders = (Array.isArray(body.orders) ? body.orders : []).slice().sort((a, b) => (b.received || 0) - (a.received || 0));
    if (!orders.length) {
      host.appendChild(h('div', { class: 'empty', text: filter === 'incomplete' ? 'No incomplete orders: every order has its order_completed span.' : 'No orders yet.' }));
      return;
    }
    for (const o of orders) {
      const ago = o.received ? fmtAgo(o.received) : null;
      const item = h('button', { type: 'button', class: 'order-item', 'data-order-id': o.clientOrderId, 'data-completed': o.completed ? 'true' : 'false',
        title: 'Trace ' + (o.traceId || '') + (o.received ? '\nreceived ' + fmtTime(o.received) : '') },
        h('div', { class: 'l1' },
          h('span', { class: 'oid', text: o.clientOrderId }),
          o.status ? h('span', { class: 'pill ' + o.status, text: o.status }) : null,
          h('span', { class: 'mark ' + (o.completed ? 'yes' : 'no'), title: o.completed ? 'completed' : 'not completed', text: o.completed ? '\u2713' : '\u2717' })),
        h('div', { class: 'l2' },
          h('span', { text: o.userId || '' }),
          h('span', { text: o.received ? (ago || fmtClock(o.received)) : '' }),
          h('span', { text: (o.spanCount || 0) + ' spans' })));
      item.addEventListener('click', () => navigate(o.clientOrderId));
      host.appendChild(item);
    }
    markActiveOrder();
  }

  function markActiveOrder(id) {
    const current = id !== undefined ? id : state.query;
    for (const el of document.querySelectorAll('#orders .order-item')) {
      el.classList.toggle('active', !!current && el.getAttribute('data-order-id') === current);
    }
  }

  // ---------------------------------------------------------------- search suggestions

  let suggestTimer = null;
  let suggestActive = -1;

  function hideSuggestions() {
    const ul = $('#suggestions');
    ul.hidden = true;
    clear(ul);
    suggestActive = -1;
    $('#search').setAttribute('aria-expanded', 'false');
  }

  function scheduleSuggestions() {
    clearTimeout(suggestTimer);
    const q = $('#search').value.trim();
    if (q.length < 1) { state.suggestSeq++; hideSuggestions(); return; }
    suggestTimer = setTimeout(() => fetchSuggestions(q), 140);
  }

  async function fetchSuggestions(q) {
    const seq = ++state.suggestSeq;
    let body;
    try { body = await api('/api/search?q=' + encodeURIComponent(q)); } catch (e) { if (seq === state.suggestSeq) hideSuggestions(); return; }
    if (seq !== state.suggestSeq || document.activeElement !== $('#search')) return;
    const ul = clear($('#suggestions'));
    const seen = new Set();
    const items = (Array.isArray(body.matches) ? body.matches : []).filter((x) => {
      const k = x.key + '=' + x.value;
      if (seen.has(k)) return false;
      seen.add(k); return true;
    }).slice(0, 12);
    if (!items.length) { hideSuggestions(); return; }
    items.forEach((x, i) => {
      const li = h('li', { role: 'option', 'data-value': x.value },
        h('span', { class: 'key', text: x.key }), h('span', { class: 'value', text: x.value }));
      li.addEventListener('mousedown', (ev) => { ev.preventDefault(); chooseSuggestion(x.value); });
      li.addEventListener('mousemove', () => setActiveSuggestion(i));
      ul.appendChild(li);
    });
    ul.hidden = false;
    suggestActive = -1;
    $('#search').setAttribute('aria-expanded', 'true');
  }

  function setActiveSuggestion(i) {
    const items = [...document.querySelectorAll('#suggestions li')];
    if (!items.length) return;
    suggestActive = (i + items.length) % items.length;
    items.forEach((li, j) => li.classList.toggle('active', j === suggestActive));
  }

  function chooseSuggestion(value) {
    $('#search').value = value;
    hideSuggestions();
    state.suggestSeq++;
    navigate(value);
  }

  // ---------------------------------------------------------------- consumer lag page (lag.html)

  const LAG_POLL_MS = 2000;
  const LAG_STATUSES = [
    ['OK', 'caught up at least once in the window, or moving'],
    ['WARN', 'moving, but the lag grew at every sample of the window'],
    ['AT RISK', 'the lag is close to what the broker keeps'],
    ['REWIND', 'the committed offset went back'],
    ['STALL', 'the committed offset did not move in the window while records wait'],
    ['STOP', 'no progress for longer than the window while records wait'],
    ['LOSS', 'records were deleted before the group read them'],
    ['ERR', 'the partition cannot be read'],
  ];
  const lagState = { timer: null, data: null, reachable: true };

  const statusClass = (status) => 'st-' + String(status || 'unknown').toLowerCase().replace(/[^a-z]+/g, '-');
  const fmtInt = (n) => (n === null || n === undefined ? '\u2013' : Number(n).toLocaleString('en-US'));
  function fmtSeconds(s) {
    if (s === null || s === undefined || isNaN(s)) return '?';
    if (s < 60) return trim(s, s < 10 ? 1 : 0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    return trim(s / 3600, 1) + ' h';
  }
  const fmtClockSeconds = (us) => fmtClock(us).replace(/\.\d+$/, '');
  function fmtSpan(seconds) {
    if (seconds < 120) return Math.round(seconds) + ' s';
    return trim(seconds / 60, 1) + ' min';
  }
  function statusBadge(status, title) {
    return h('span', { class: 'lag-status ' + statusClass(status), title: title || null, 'data-status': status, text: status });
  }

  // A sparkline of one series of a partition's history, on the time axis every sparkline of the
  // page shares (from the oldest kept sample to the latest), so a partition seen only lately
  // grows from the right; gaps where the value is unknown; the scale is the series' own peak.
  function sparkline(points, field, kind, end, span, format) {
    const W = 132, H = 30, P = 2.5;
    const svg = sv('svg', { class: 'spark spark-' + kind, width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const known = points.filter((p) => p[field] !== null && p[field] !== undefined);
    const max = known.reduce((m, p) => Math.max(m, p[field]), 0);
    const x = (t) => P + Math.max(0, Math.min(1, span > 0 ? 1 - (end - t) / span : 1)) * (W - 2 * P);
    const y = (v) => (max > 0 ? H - P - (v / max) * (H - 2 * P - 2) : H - P);
    svg.appendChild(sv('line', { class: 'base', x1: P, x2: W - P, y1: H - P + 0.5, y2: H - P + 0.5 }));
    const segments = [];
    let current = [];
    for (const p of points) {
      const v = p[field];
      if (v === null || v === undefined) { if (current.length) segments.push(current); current = []; continue; }
      current.push([x(p.time), y(v)]);
    }
    if (current.length) segments.push(current);
    const xy = (q) => q[0].toFixed(1) + ',' + q[1].toFixed(1);
    for (const seg of segments) {
      if (seg.length < 2) continue;
      const first = seg[0], last = seg[seg.length - 1];
      svg.appendChild(sv('path', { class: 'area', d: 'M' + first[0].toFixed(1) + ',' + (H - P) + ' L' + seg.map(xy).join(' L') + ' L' + last[0].toFixed(1) + ',' + (H - P) + ' Z' }));
      svg.appendChild(sv('polyline', { class: 'line', points: seg.map(xy).join(' ') }));
    }
    const lastPoint = points[points.length - 1];
    if (lastPoint && lastPoint[field] !== null && lastPoint[field] !== undefined) {
      svg.appendChild(sv('circle', { class: 'dot', cx: x(lastPoint.time).toFixed(1), cy: y(lastPoint[field]).toFixed(1), r: 2.2 }));
    }
    const label = kind === 'lag' ? 'Lag' : 'Lag seconds';
    const text = points.length
      ? label + ': now ' + (lastPoint[field] === null ? '?' : format(lastPoint[field])) + ', peak ' + format(max) + ' over the last ' +
        points.length + ' sample' + (points.length === 1 ? '' : 's') + ' (' + fmtSpan((lastPoint.time - points[0].time) / 1e6) + ')'
      : label + ': no samples yet';
    svg.appendChild(sv('title', { text }));
    svg.setAttribute('aria-label', text);
    svg.setAttribute('data-points', String(known.length));
    return svg;
  }

  function lagNotice(kind, title, ...paragraphs) {
    const el = $('#lag-notice');
    clear(el);
    if (!kind) { el.hidden = true; el.className = ''; return; }
    el.className = 'notice ' + kind;
    append(el, [h('h2', { text: title }), paragraphs.map((p) => (p instanceof Node ? p : h('p', { text: p })))]);
    el.hidden = false;
  }

  function renderLagLegend() {
    const el = clear($('#lag-legend'));
    for (const [status, meaning] of LAG_STATUSES) el.appendChild(statusBadge(status, status + ': ' + meaning));
  }

  function renderLagSummary(data) {
    const el = clear($('#lag-summary'));
    const groups = data.groups || [];
    if (!groups.length) return;
    const counts = new Map();
    let lag = 0, partitions = 0;
    for (const g of groups) {
      counts.set(g.status, (counts.get(g.status) || 0) + 1);
      lag += g.lag || 0;
      partitions += (g.partitions || []).length;
    }
    append(el, [
      h('div', { class: 'sum' }, h('b', { text: groups.length }), ' group' + (groups.length === 1 ? '' : 's')),
      h('div', { class: 'sum' }, h('b', { text: partitions }), ' partition' + (partitions === 1 ? '' : 's')),
      h('div', { class: 'sum' }, h('b', { text: fmtInt(lag) }), ' records waiting'),
      h('div', { class: 'sum statuses' }, LAG_STATUSES.filter(([s]) => counts.has(s)).map(([s]) =>
        h('span', { class: 'count' }, statusBadge(s), ' \u00d7 ' + counts.get(s)))),
    ]);
  }

  // The time axis of every sparkline: the oldest sample kept for any partition to the latest.
  function lagTimeAxis(data) {
    const end = data.sampledAt || Date.now() * 1000;
    let start = end;
    for (const g of data.groups || []) {
      for (const p of g.partitions || []) {
        if (p.history && p.history.length) start = Math.min(start, p.history[0].time);
      }
    }
    return { end, span: end - start };
  }

  function renderLagGroup(group, data, axis) {
    const parts = group.partitions || [];
    const { end, span } = axis;
    const totals = [
      h('span', null, h('b', { text: fmtInt(group.lag) }), ' records waiting'),
      h('span', null, 'oldest ', h('b', { text: fmtSeconds(group.lagSeconds) })),
      h('span', { text: parts.length + ' partition' + (parts.length === 1 ? '' : 's') }),
    ];
    if (group.brokerState) totals.push(h('span', { text: 'broker state ' + group.brokerState }));
    if (group.members !== null && group.members !== undefined) {
      totals.push(h('span', { class: 'group-members', text: group.members + ' member' + (group.members === 1 ? '' : 's') }));
      totals.push(h('span', { class: 'group-rebalances', title: 'rounds in which a partition had changed owner since the round before',
        text: (group.rebalancesObserved || 0) + ' rebalance' + (group.rebalancesObserved === 1 ? '' : 's') + ' seen' }));
    }
    const section = h('section', { class: 'panel lag-group ' + statusClass(group.status), 'data-group': group.group, 'data-status': group.status },
      h('div', { class: 'lag-group-head' },
        statusBadge(group.status),
        h('h2', { class: 'group-name', text: group.group }),
        h('span', { class: 'group-reason', text: group.reason || '' }),
        h('div', { class: 'group-totals' }, totals)));
    if (!parts.length) {
      section.appendChild(h('p', { class: 'lag-empty', text: group.describeError
        ? 'Nothing to report: the group cannot be described (' + group.describeError + ') and has no committed offsets.'
        : 'Nothing to report yet: the group has no committed offsets and no members.' }));
      return section;
    }
    const head = h('tr', null,
      h('th', { class: 'c-topic', text: 'Topic' }), h('th', { class: 'n c-part', text: 'Partition' }), h('th', { class: 'c-owner', text: 'Owner' }),
      h('th', { class: 'n c-off', text: 'Committed' }),
      h('th', { class: 'n c-off', text: 'Log end' }), h('th', { class: 'n c-lag', text: 'Lag' }), h('th', { class: 'chart', text: 'Lag, recent' }),
      h('th', { class: 'n c-sec', text: 'Lag seconds' }), h('th', { class: 'chart', text: 'Lag seconds, recent' }),
      h('th', { class: 'c-status', text: 'Status' }), h('th', { class: 'c-reason', text: 'Reason' }));
    const body = h('tbody');
    for (const p of parts) {
      const committed = p.committed === null || p.committed === undefined
        ? h('span', { class: 'none', title: 'never committed: the lag counts from the first offset, ' + fmtInt(p.logStart), text: 'none' })
        : fmtInt(p.committed);
      body.appendChild(h('tr', { class: 'lag-row ' + statusClass(p.status), 'data-topic': p.topic, 'data-partition': p.partition, 'data-status': p.status },
        h('td', { class: 'topic', title: p.topic, text: p.topic }),
        h('td', { class: 'n', text: p.partition }),
        ownerCell(p.owner, group.describeError),
        h('td', { class: 'n' }, committed),
        h('td', { class: 'n', text: fmtInt(p.logEnd) }),
        h('td', { class: 'n lag', 'data-lag': p.lag, text: fmtInt(p.lag) }),
        h('td', { class: 'chart' }, sparkline(p.history || [], 'lag', 'lag', end, span, fmtInt)),
        h('td', { class: 'n seconds', text: fmtSeconds(p.lagSeconds) }),
        h('td', { class: 'chart' }, sparkline(p.history || [], 'lagSeconds', 'seconds', end, span, fmtSeconds)),
        h('td', null, statusBadge(p.status)),
        h('td', { class: 'reason', text: p.reason || '' })));
    }
    section.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'lag-table' }, h('thead', null, head), body)));
    return section;
  }

  // The member holding a partition: client id and host, the member id on hover; "unknown" when
  // the broker cannot describe the group, "none" when no member holds it.
  function ownerCell(owner, describeError) {
    if (!owner) {
      return describeError
        ? h('td', { class: 'owner', 'data-owner': 'unknown' }, h('span', { class: 'none', title: 'the broker cannot describe the group: ' + describeError, text: 'unknown' }))
        : h('td', { class: 'owner', 'data-owner': 'none' }, h('span', { class: 'none', title: 'no member holds the partition', text: 'none' }));
    }
    const host = (owner.host || '').replace(/^\//, '');
    const label = host ? owner.clientId + '@' + host : owner.clientId;
    return h('td', { class: 'owner', 'data-owner': owner.memberId, title: 'member ' + owner.memberId, text: label });
  }

  function renderLag(data) {
    lagState.data = data;
    const groupsEl = $('#lag-groups');
    if (!data.enabled) {
      $('#lag-sub').textContent = '';
      clear($('#lag-summary'));
      clear(groupsEl);
      $('#lag-legend').hidden = true;
      lagNotice('off', 'Lag monitoring is off', 'The explorer was started without Kafka brokers, so it samples no consumer groups.',
        h('p', null, 'To turn it on, start it with the brokers: ', h('code', { text: 'KAFKA_BROKERS=host:port ordertrace explorer' }),
          ' (or ', h('code', { text: 'ordertrace explorer -b host:port' }), '). ', h('code', { text: 'ordertrace up' }),
          ' passes its brokers to the explorer it starts, so there the page is on.'));
      setStatus('lag monitoring off');
      return;
    }
    $('#lag-legend').hidden = false;
    const when = data.sampledAt ? fmtClockSeconds(data.sampledAt) : null;
    $('#lag-sub').textContent = 'Sampled every ' + trim(data.interval, 1) + ' s; status judged over ' + trim(data.window, 0) +
      ' s; charts show the last ' + data.historyLimit + ' samples' + (when ? '. Latest sample ' + when + '.' : '.');
    if (data.error) {
      lagNotice('error', 'The latest sample failed', data.error.message,
        h('p', { class: 'sub', text: 'At ' + fmtClockSeconds(data.error.time) + (data.sampledAt ? '; below: the sample of ' + when + '.' : '; nothing sampled yet. The monitor keeps trying.') }));
    } else if (!data.sampledAt) {
      lagNotice('info', 'Waiting for the first sample', 'The monitor reads the consumer groups every ' + trim(data.interval, 1) + ' s.');
    } else if (!(data.groups || []).length) {
      lagNotice('info', 'No consumer groups to show', 'The monitor covers the pipeline\u2019s groups (order-manager, algo, exchange-gateway, allocator), the groups the cluster lists and those named with --lag-group; none was found.');
    } else {
      lagNotice(null);
    }
    renderLagSummary(data);
    const axis = lagTimeAxis(data);
    const sections = (data.groups || []).map((g) => renderLagGroup(g, data, axis));
    groupsEl.replaceChildren(...sections);
    setStatus(data.error ? 'latest sample failed' : (when ? 'updated ' + when : 'waiting for the first sample'), data.error ? 'error' : '');
  }

  async function pollLag() {
    clearTimeout(lagState.timer);
    try {
      const data = await api('/api/lag');
      lagState.reachable = true;
      renderLag(data);
    } catch (e) {
      lagState.reachable = false;
      setStatus(e.message + ' Retrying\u2026', 'error');
      if (!lagState.data) lagNotice('error', 'Cannot load the consumer lag', e.message);
    }
    lagState.timer = setTimeout(pollLag, LAG_POLL_MS);
  }

  function initLag() {
    renderLagLegend();
    setStatus('loading\u2026', 'loading');
    pollLag();
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    const input = $('#search');
    $('#search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const items = [...document.querySelectorAll('#suggestions li')];
      if (suggestActive >= 0 && items[suggestActive]) { chooseSuggestion(items[suggestActive].getAttribute('data-value')); return; }
      const v = input.value.trim();
      clearTimeout(suggestTimer);
      state.suggestSeq++;
      hideSuggestions();
      if (v) navigate(v);
      else goHome();
    });
    input.addEventListener('input', scheduleSuggestions);
    input.addEventListener('keydown', (ev) => {
      if ($('#suggestions').hidden) return;
      if (ev.key === 'ArrowDown') { ev.preventDefault(); setActiveSuggestion(suggestActive + 1); }
      else if (ev.key === 'ArrowUp') { ev.preventDefault(); setActiveSuggestion(suggestActive - 1); }
      else if (ev.key === 'Escape') { hideSuggestions(); }
    });
    input.addEventListener('blur', () => setTimeout(hideSuggestions, 120));
    $('#brand').addEventListener('click', (ev) => { ev.preventDefault(); goHome(); });
    $('#incomplete-only').addEventListener('change', loadOrders);
    $('#orders-refresh').addEventListener('click', loadOrders);
    document.addEventListener('keydown', (ev) => {
      if (ev.key === '/' && document.activeElement !== input && !(ev.target instanceof HTMLInputElement)) { ev.preventDefault(); input.focus(); input.select(); }
    });
    window.addEventListener('hashchange', route);
    window.addEventListener('popstate', route);
    setInterval(() => { if (document.visibilityState === 'visible') loadOrders(); }, 15000);
    renderDetails(null);
    loadOrders();
    route();
  }

  const start = () => (document.body.dataset.page === 'lag' ? initLag() : init());
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
