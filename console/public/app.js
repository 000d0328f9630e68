// az-evac emergency console page. Plain ES module, no build step. Talks to the console's
// JSON API (same origin, session cookie); every state-changing request carries the CSRF
// header. Live progress arrives as server-sent events. Data is only ever inserted as text.

const CSRF = { 'x-az-evac-csrf': '1' };
const $ = (id) => document.getElementById(id);

/** Small DOM helper: h('td', { class: 'num' }, 'text', child…). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Call the API; throws Error(server's message) on a non-2xx answer. */
async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(path, {
    method, credentials: 'same-origin',
    headers: { ...(method === 'GET' ? {} : CSRF), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

const jobs = (n) => `${n} ${n === 1 ? 'job' : 'jobs'}`;
const pad = (n) => String(n).padStart(2, '0');
/** A time in UTC as the reports write it, with the browser's local time on hover: <time title="local">2026-12-06 03:02:11 UTC</time>. */
function utc(value) {
  if (value === undefined || value === null) return '—';
  const d = new Date(value);
  const text = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  return h('time', { datetime: d.toISOString(), title: `${d.toLocaleString()} (local time)` }, text);
}
/** A link opening in a new tab, or plain text when there is no URL. */
const link = (href, text, attrs = {}) => (href ? h('a', { href, target: '_blank', rel: 'noopener', ...attrs }, text) : text);
const FINISHED = ['done', 'aborted', 'failed'];
/** Verdict (domain/verdict.ts) → CSS class and words: green only for success. */
const VERDICT = { success: ['ok', 'success'], 'rto-missed': ['warn', 'RTO missed'], failed: ['bad', 'failed'], aborted: ['bad', 'aborted'] };
const secs = (s) => (s === null || s === undefined ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

const state = { me: null, fleet: null, evacuationId: null, events: null, progress: null, progressAt: 0, connected: true, lostAt: 0 };

// ---- sign-in ---------------------------------------------------------------------------

async function boot() {
  try {
    state.me = await api('/api/me');
  } catch (err) {
    if (err.status === 401) return showLogin();
    throw err;
  }
  showApp();
}

function showLogin() {
  $('app').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-token').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    state.me = await api('/api/login', { method: 'POST', body: { token: $('login-token').value } });
    $('login-token').value = '';
    showApp();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
});

$('logout').addEventListener('click', async () => {
  await api('/api/logout', { method: 'POST' }).catch(() => undefined);
  if (state.events) state.events.close();
  location.reload();
});

async function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-user').textContent = state.me.user;
  $('who-role').textContent = state.me.role;
  $('who-role').className = `role ${state.me.role}`;
  window.azEvac.me = state.me;
  await Promise.all([loadFleet(), loadEvacuations()]);
  const running = state.evacuations.find((e) => e.status === 'RUNNING');
  if (running) watch(running.evacuationId);
  setInterval(loadEvacuations, 5000);
  setInterval(tick, 500);
  for (const src of (await api('/api/ui/scripts')).scripts) await import(src);
}

// ---- fleet -----------------------------------------------------------------------------

async function loadFleet() {
  try {
    state.fleet = await api('/api/fleet');
  } catch (err) {
    $('catalog-meta').textContent = err.message;
    return;
  }
  renderFleet();
  // Readiness: plan each AZ's evacuation into the next AZ (acts on nothing).
  for (const az of state.fleet.azs) {
    if (az.readiness) continue;
    const target = state.fleet.azs.find((a) => a.az !== az.az);
    if (!target) continue;
    api(`/api/plan?from=${encodeURIComponent(az.az)}&to=${encodeURIComponent(target.az)}`)
      .then(() => api('/api/fleet')).then((f) => { state.fleet = f; renderFleet(); })
      .catch((err) => { az.readinessError = err.message; renderFleet(); });
  }
}

function readinessCell(az) {
  if (az.readinessError) {
    // The cause chain repeats itself ("Workflow execution failed: Activity task failed: …"): show its last part.
    const parts = az.readinessError.split(': ');
    return h('td', { class: 'bad', title: az.readinessError }, 'cannot plan', h('small', {}, parts.slice(-2).join(': ')));
  }
  const r = az.readiness;
  if (!r) return h('td', { class: 'muted' }, 'checking…');
  // Red only for blocking findings; informational ones (a P3 job that will not fit, a cold standby…) are amber.
  const cls = r.blocking ? 'bad' : r.notAdmitted || r.findings ? 'warn' : 'ok';
  const headline = r.blocking ? `${r.blocking} blocking finding(s)` : r.findings ? `ready · ${r.findings} informational finding(s)` : 'ready';
  const codes = Object.entries(r.byCode).map(([c, n]) => `${c} ${n}`).join(', ');
  return h('td', { class: cls, title: codes, 'data-blocking': r.blocking }, headline,
    h('small', {}, `→ ${r.targetAz}: ${r.notAdmitted} will not fit, ${r.preemptions} P3 preempted${codes ? ` · ${codes}` : ''}`));
}

/** Per tier, the worst RPO an evacuation of this AZ would pay now against the tier's RPO, and its unprotected jobs (red). */
function rpoCell(az) {
  const rows = az.readiness?.rpoNow;
  if (!rows) return h('td', { class: 'muted' }, az.readiness || az.readinessError ? '-' : 'checking…');
  const unprotected = rows.reduce((n, t) => n + t.unprotected, 0);
  const text = rows.map((t) => `${t.tier} ${t.worstAgeSeconds === null ? 'none' : `${Math.round(t.worstAgeSeconds)}s`} / ${t.rpoTargetSeconds}s${t.unprotected ? ` (${t.unprotected} unprotected)` : ''}`).join(' · ');
  return h('td', { class: unprotected ? 'bad' : 'ok', 'data-unprotected': unprotected }, unprotected ? `${unprotected} job(s) unprotected` : 'no job unprotected', h('small', {}, text));
}

function renderFleet() {
  const f = state.fleet;
  $('catalog-meta').replaceChildren(`catalog v${f.catalogVersion}, taken `, utc(f.catalogTakenAt));
  const body = $('fleet').tBodies[0];
  body.replaceChildren(...f.azs.map((az) => h('tr', { 'data-az': az.az },
    h('td', {}, az.az, h('small', {}, az.zone)),
    az.tiers.map((t) => h('td', { class: 'num' }, jobs(t.jobs), h('small', {}, `${t.cores.toLocaleString()} cores`))),
    h('td', { class: 'num' }, jobs(az.jobs), h('small', {}, `${az.cores.toLocaleString()} cores`)),
    readinessCell(az),
    rpoCell(az),
  )));
}

// ---- trigger dialog --------------------------------------------------------------------

function fillAzSelect(select, azs, selected) {
  select.replaceChildren(...azs.map((a) => h('option', { value: a.az, selected: a.az === selected }, a.az)));
}

$('open-trigger').addEventListener('click', () => {
  if (!state.fleet) return toast('No fleet catalog yet: run `az-evac catalog sync`.');
  const azs = state.fleet.azs;
  fillAzSelect($('trigger-source'), azs, azs[0]?.az);
  fillAzSelect($('trigger-target'), azs, azs[1]?.az);
  $('trigger-mode').value = 'emergency';
  for (const box of document.querySelectorAll('#trigger-tiers input')) box.checked = true;
  $('confirm-az').value = '';
  $('reason').value = '';
  $('trigger-error').textContent = '';
  $('trigger-role-note').textContent = state.me.role === 'operator'
    ? 'Choose the mode and the tiers, check the plan, give a reason (an emergency also asks you to type the failed AZ’s name). A second press (from anywhere) joins the running evacuation.'
    : `You are signed in as a viewer (${state.me.user}): you may look at the plan, the server refuses the evacuation.`;
  $('trigger').showModal();
  updateEvacuateButton();
  loadPlan();
});

$('trigger-cancel').addEventListener('click', () => $('trigger').close());
$('trigger-source').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });
$('trigger-target').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });
$('trigger-mode').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });
$('trigger-tiers').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });

/** The chosen tiers, or undefined for every tier (no scope). */
function chosenTiers() {
  const boxes = [...document.querySelectorAll('#trigger-tiers input')];
  const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
  return chosen.length === boxes.length ? undefined : chosen;
}
$('confirm-az').addEventListener('input', updateEvacuateButton);
$('reason').addEventListener('input', updateEvacuateButton);

/** What each mode does (the CLI's --mode help says the same). */
const MODE_MEANING = {
  emergency: 'The failed AZ is gone: jobs restore from their newest replicated snapshots and the source copies are fenced.',
  planned: 'The failed AZ still answers: each job is stopped with a savepoint there and restored from it.',
  drill: 'A rehearsal that failback undoes: as planned, each job is stopped with a savepoint and restored from it.',
};

function updateEvacuateButton() {
  const emergency = $('trigger-mode').value === 'emergency';
  $('mode-meaning').textContent = MODE_MEANING[$('trigger-mode').value] ?? '';
  // Only an emergency (acting on a failed AZ without asking it) needs the failed AZ typed, as the CLI asks.
  $('confirm-row').hidden = !emergency;
  const confirmed = !emergency || $('confirm-az').value.trim() === $('trigger-source').value;
  const tiers = chosenTiers();
  const ready = confirmed && $('reason').value.trim().length >= 3 && (!tiers || tiers.length > 0)
    && $('trigger-source').value !== $('trigger-target').value;
  $('evacuate').disabled = !ready;
  $('evacuate').textContent = emergency ? 'Evacuate' : `Start ${$('trigger-mode').value}`;
}

let planSeq = 0;
async function loadPlan() {
  const from = $('trigger-source').value;
  const to = $('trigger-target').value;
  const box = $('plan-summary');
  const seq = ++planSeq;
  if (from === to) { box.replaceChildren(h('p', { class: 'bad' }, 'The failed AZ and the target are the same: choose another target.')); return; }
  const tiers = chosenTiers();
  if (tiers && tiers.length === 0) { box.replaceChildren(h('p', { class: 'bad' }, 'No tier chosen: choose at least one.')); return; }
  box.replaceChildren(h('p', { class: 'muted' }, `Planning ${from} → ${to}… (acts on nothing)`));
  let p;
  try {
    const scope = tiers ? `&tiers=${encodeURIComponent(tiers.join(','))}` : '';
    p = await api(`/api/plan?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&mode=${encodeURIComponent($('trigger-mode').value)}${scope}`);
  } catch (err) {
    if (seq === planSeq) box.replaceChildren(h('p', { class: 'bad' }, err.message));
    return;
  }
  if (seq !== planSeq) return;
  const moves = p.tiers.reduce((n, t) => n + t.admitted, 0);
  const list = (items, fmt, findings) => h('ul', findings ? { 'data-findings': findings } : {}, items.map((i) => h('li', {}, fmt(i))));
  // replaceChildren writes a null child as the text "null": the parts a plan does not have are dropped first.
  box.replaceChildren(...[
    h('p', {}, h('strong', {}, `${jobs(moves)} move`), ` from ${from} to ${to} (catalog v${p.catalogVersion}); ${to} free: ${p.capacityBefore.cores.toLocaleString()} cores before, ${p.capacityAfter.cores.toLocaleString()} after.`),
    h('table', { id: 'plan-tiers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'tier'), h('th', {}, 'moves'), h('th', {}, 'cores'), h('th', {}, 'will not fit'), h('th', {}, 'preempts'))),
      h('tbody', {}, p.tiers.map((t) => h('tr', { 'data-tier': t.tier }, h('td', {}, t.tier), h('td', { class: 'num' }, t.admitted), h('td', { class: 'num' }, t.cores.toLocaleString()), h('td', { class: t.notAdmitted ? 'warn' : '' }, t.notAdmitted), h('td', { class: 'num' }, t.preempted))))),
    p.rpoNow ? h('p', { class: p.rpoNow.unprotected.count ? 'bad' : 'muted' }, `RPO now: ${p.rpoNow.tiers.map((t) => `${t.tier} ${t.worstAgeSeconds === null ? 'none' : `${Math.round(t.worstAgeSeconds)}s`} / ${t.rpoTargetSeconds}s`).join(', ')}; ${p.rpoNow.unprotected.count} job(s) unprotected (no restorable snapshot within their RPO in ${to}).`) : null,
    p.rpoNow?.unprotected.count ? list(p.rpoNow.unprotected.items, (x) => `${x.tier} ${x.job}: ${x.reason}`) : null,
    h('p', { class: p.preemptions.count ? 'warn' : 'muted' }, `${p.preemptions.count} P3 job(s) in ${to} will be suspended to make room.`),
    p.preemptions.count ? list(p.preemptions.items, (x) => `${x.key} (${x.cores} cores) for ${x.forJob}`) : null,
    h('p', { class: p.notAdmitted.count ? 'warn' : 'muted' }, `${p.notAdmitted.count} job(s) will NOT move.`),
    p.notAdmitted.count ? list(p.notAdmitted.items, (x) => `${x.tier} ${x.key}: ${x.reason}`) : null,
    h('p', { class: p.findings.blocking ? 'bad' : 'muted' }, `${p.findings.blocking} blocking readiness finding(s) (the job fails before anything is done to it).`),
    p.findings.blocking ? list(p.findings.items.filter((x) => x.blocking), findingText, 'blocking') : null,
    h('p', { class: 'muted' }, `${p.findings.count - p.findings.blocking} informational finding(s) (the job moves).`),
    p.findings.count > p.findings.blocking ? list(p.findings.items.filter((x) => !x.blocking), findingText, 'informational') : null,
    p.findings.count > p.findings.items.length ? h('p', { class: 'muted' }, `(first ${p.findings.items.length} of ${p.findings.count} shown; counts by kind: ${Object.entries(p.findings.byCode).map(([c, n]) => `${c} ${n}`).join(', ')})`) : null,
  ].filter((part) => part !== null));
}

/** One finding in words; a kind this page does not know is shown by its code and message all the same. */
function findingText(x) {
  return `${x.code} ${x.job}: ${x.message}`;
}

$('evacuate').addEventListener('click', async () => {
  $('trigger-error').textContent = '';
  $('evacuate').disabled = true;
  try {
    const started = await api('/api/evacuations', {
      method: 'POST',
      body: {
        sourceAz: $('trigger-source').value, targetAz: $('trigger-target').value, mode: $('trigger-mode').value, reason: $('reason').value,
        ...($('trigger-mode').value === 'emergency' ? { confirm: $('confirm-az').value } : {}),
        ...(chosenTiers() ? { tiers: chosenTiers() } : {}),
      },
    });
    $('trigger').close();
    toast(started.joined ? `Joined the running evacuation ${started.evacuationId}` : `Started evacuation ${started.evacuationId}`);
    watch(started.evacuationId, started.joined);
    loadEvacuations();
  } catch (err) {
    $('trigger-error').textContent = err.message;
    updateEvacuateButton();
  }
});

// ---- progress --------------------------------------------------------------------------

function watch(id, joined = false) {
  if (state.events) state.events.close();
  state.evacuationId = id;
  state.progress = null;
  setConnected(true);
  $('progress').hidden = false;
  $('evac-id').textContent = id;
  $('report-links').hidden = true;
  const notice = $('evac-notice');
  notice.hidden = !joined;
  notice.textContent = joined ? 'This evacuation was already running: your press joined it (nothing new started).' : '';
  connect(id);
}

/** Milliseconds before the page opens a new event stream after the browser gave up on one. */
const RECONNECT_MS = 2000;

/**
 * Open the progress event stream of `id`. The browser retries a dropped stream by itself, but
 * gives up for good on an HTTP error (a console restarting behind a proxy, a 5xx): then the
 * page opens a new one, unless the session is gone (sign in again).
 */
function connect(id) {
  const es = new EventSource(`/api/evacuations/${encodeURIComponent(id)}/events`);
  state.events = es;
  es.addEventListener('progress', (e) => {
    state.progress = JSON.parse(e.data);
    state.progressAt = Date.now();
    setConnected(true);
    renderProgress();
    if (FINISHED.includes(state.progress.phase)) { es.close(); loadEvacuations(); }
  });
  es.addEventListener('problem', (e) => toast(JSON.parse(e.data).error));
  // Until progress flows again the page says so and the clock stops.
  es.onerror = () => {
    if (state.progress && FINISHED.includes(state.progress.phase)) return es.close();
    setConnected(false);
    if (es.readyState !== EventSource.CLOSED) return undefined;
    return setTimeout(async () => {
      if (state.events !== es) return;
      try {
        await api('/api/me');
      } catch (err) {
        if (err.status === 401) return showLogin();
      }
      connect(id);
    }, RECONNECT_MS);
  };
}

/** Show or clear the "connection lost" state; while lost the elapsed clock stands still. */
function setConnected(connected) {
  if (connected === state.connected) return;
  state.connected = connected;
  state.lostAt = connected ? 0 : Date.now();
  $('connection').hidden = connected;
  if (state.progress) renderProgress();
}

function elapsedNow(p) {
  if (FINISHED.includes(p.phase)) return p.elapsedSeconds;
  const until = state.connected ? Date.now() : state.lostAt;
  return p.elapsedSeconds + Math.max(0, until - state.progressAt) / 1000;
}

function tick() {
  if (state.progress) renderProgress();
}

function renderProgress() {
  const p = state.progress;
  const finished = FINISHED.includes(p.phase);
  const phase = $('phase');
  // A finished run is coloured by its verdict (from the report): never green beside failed jobs, a missed RTO or an abort.
  const [verdictClass, verdictWords] = finished && p.verdict ? VERDICT[p.verdict] : [];
  phase.textContent = p.paused && !finished ? 'paused' : verdictWords && p.verdict !== 'success' && p.phase === 'done' ? `done · ${verdictWords}` : p.phase;
  phase.className = `phase ${p.paused && !finished ? 'paused' : finished ? (verdictClass ?? (p.phase === 'done' ? 'pending' : 'bad')) : p.phase}`;
  phase.dataset.verdict = p.verdict ?? '';
  $('evac-id').replaceChildren(link(p.temporalUrl, p.evacuationId, { title: 'open in the Temporal UI', id: 'evac-temporal' }));
  $('evac-meta').replaceChildren(`${p.sourceAz} → ${p.targetAz} · ${p.mode} · triggered `, utc(p.startedAtMs), p.abortedBy ? ` · aborted by ${p.abortedBy}` : '');
  const elapsed = elapsedNow(p);
  $('elapsed').textContent = secs(elapsed);
  const operator = state.me.role === 'operator';
  for (const [id, enabled] of [['pause', !finished && !p.paused], ['resume', !finished && p.paused], ['abort', !finished]]) {
    $(id).disabled = !operator || !enabled;
    $(id).title = operator ? '' : 'operators only';
  }
  $('tiers').tBodies[0].replaceChildren(...p.tiers.map((t) => {
    const pct = (n) => `${t.planned ? (100 * n) / t.planned : 0}%`;
    const bar = h('div', { class: 'bar' });
    for (const [cls, n] of [['done', t.succeeded], ['failed', t.failed], ['skipped', t.skipped], ['running', t.running]]) {
      const seg = h('i', { class: cls, title: `${cls}: ${n}` });
      seg.style.width = pct(n);
      bar.append(seg);
    }
    return h('tr', { 'data-tier': t.tier, 'data-state': t.state },
      h('td', {}, link(t.temporalUrl, t.tier, { title: 'open the tier workflow in the Temporal UI' })), h('td', {}, bar),
      h('td', { 'data-field': 'planned' }, t.planned), h('td', { 'data-field': 'running' }, t.running),
      h('td', { 'data-field': 'succeeded', class: 'ok' }, t.succeeded), h('td', { 'data-field': 'failed', class: t.failed ? 'bad' : '' }, t.failed),
      h('td', { 'data-field': 'skipped' }, t.skipped),
      rtoCell(t, elapsed));
  }));
  renderFailedJobs(p);
  if (p.reportFile) {
    const base = `/api/evacuations/${encodeURIComponent(p.evacuationId)}`;
    $('report-link').href = `${base}/report.html`;
    $('report-json').href = `${base}/report.json`;
    $('report-links').hidden = false;
  }
}

/**
 * A tier's RTO cell. Done: the RTO achieved as the report defines it (trigger → the tier's last
 * job RUNNING, computed by the server from the recorded outcomes), frozen. Running: time since
 * the trigger, not yet an RTO (amber once past the target). Waiting: nothing.
 */
function rtoCell(t, elapsed) {
  const target = secs(t.rtoTargetSeconds);
  if (t.rto && t.rto.seconds === null) return h('td', { 'data-field': 'rto', class: 'muted' }, `— / ${target} · ${t.planned ? 'no job ran' : 'nothing to move'}`);
  if (t.rto) return h('td', { 'data-field': 'rto', class: t.rto.met ? 'ok' : 'over' }, `${secs(t.rto.seconds)} / ${target} · ${t.rto.met ? 'met' : 'missed'}`);
  if (t.state === 'waiting') return h('td', { 'data-field': 'rto', class: 'muted' }, `waiting / ${target}`);
  return h('td', { 'data-field': 'rto', class: elapsed > t.rtoTargetSeconds ? 'warn' : '', title: 'time since the trigger; the RTO counts when the tier is done' }, `running ${secs(elapsed)} / ${target}`);
}

/** The failed jobs with their reasons, as the shards record them. */
function renderFailedJobs(p) {
  const failedCount = p.tiers.reduce((n, t) => n + t.failed, 0);
  const box = $('failed-jobs');
  box.hidden = failedCount === 0 && p.failedJobs.count === 0;
  $('failed-count').textContent = String(Math.max(failedCount, p.failedJobs.count));
  $('failed-pending').textContent = failedCount > p.failedJobs.count ? `${failedCount - p.failedJobs.count} more failed; their reasons appear as their tier records them.` : '';
  $('failed-list').hidden = p.failedJobs.items.length === 0;
  $('failed-list').tBodies[0].replaceChildren(...p.failedJobs.items.map((j) => h('tr', { 'data-job': j.key },
    h('td', {}, j.tier), h('td', { class: 'mono' }, link(j.temporalUrl, j.key, { title: 'open the shard workflow that ran its steps in the Temporal UI' })), h('td', {}, j.reason))));
}

async function control(action, body) {
  try {
    await api(`/api/evacuations/${encodeURIComponent(state.evacuationId)}/${action}`, { method: 'POST', body });
    toast(`${action} accepted`);
    return true;
  } catch (err) {
    toast(err.message);
    return err;
  }
}

$('pause').addEventListener('click', () => control('pause', {}));
$('resume').addEventListener('click', () => control('resume', {}));
$('abort').addEventListener('click', () => { $('abort-reason').value = ''; $('abort-error').textContent = ''; $('abort-dialog').showModal(); });
$('abort-cancel').addEventListener('click', () => $('abort-dialog').close());
$('abort-confirm').addEventListener('click', async () => {
  const r = await control('abort', { reason: $('abort-reason').value });
  if (r === true) $('abort-dialog').close();
  else $('abort-error').textContent = r.message;
});

// ---- evacuation list -------------------------------------------------------------------

async function loadEvacuations() {
  try {
    state.evacuations = (await api('/api/evacuations')).evacuations;
  } catch {
    state.evacuations = state.evacuations ?? [];
    return;
  }
  // COMPLETED alone is not green: the verdict (from the run's report) says whether jobs failed or an RTO was missed.
  $('evacuations').tBodies[0].replaceChildren(...state.evacuations.map((e) => {
    const [cls, words] = e.status === 'RUNNING' ? ['warn', ''] : e.verdict ? VERDICT[e.verdict] : ['muted', 'verdict unknown'];
    return h('tr', { onclick: () => watch(e.evacuationId), 'data-id': e.evacuationId, 'data-verdict': e.verdict ?? '' },
      h('td', { class: 'mono' }, e.evacuationId), h('td', { class: cls }, words && words.toUpperCase() !== e.status ? `${e.status} · ${words}` : e.status),
      h('td', {}, utc(e.startedAt)), h('td', {}, e.closedAt ? utc(e.closedAt) : '—'),
      h('td', {}, link(e.temporalUrl, 'Temporal UI', { onclick: (ev) => ev.stopPropagation() })));
  }));
}

// ---- add-on API (console/plugins.ts page scripts) -------------------------------------

window.azEvac = {
  api, h, utc, me: null,
  /** An empty card section with a title, appended to the page, for an add-on to fill. */
  panel(title) {
    const section = h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', {}, title)));
    $('panels').append(section);
    return section;
  },
};

boot().catch((err) => toast(err.message));
