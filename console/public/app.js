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
const secs = (s) => (s === null || s === undefined ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

const state = { me: null, fleet: null, evacuationId: null, events: null, progress: null, progressAt: 0 };

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
  const cls = r.blocking ? 'bad' : r.notAdmitted || r.findings ? 'warn' : 'ok';
  const headline = r.blocking ? `${r.blocking} blocking finding(s)` : r.findings ? `${r.findings} finding(s), none blocking` : 'ready';
  const codes = Object.entries(r.byCode).map(([c, n]) => `${c} ${n}`).join(', ');
  return h('td', { class: cls, title: codes }, headline,
    h('small', {}, `→ ${r.targetAz}: ${r.notAdmitted} will not fit, ${r.preemptions} P3 preempted${codes ? ` · ${codes}` : ''}`));
}

function renderFleet() {
  const f = state.fleet;
  $('catalog-meta').textContent = `catalog v${f.catalogVersion}, taken ${new Date(f.catalogTakenAt).toLocaleString()}`;
  const body = $('fleet').tBodies[0];
  body.replaceChildren(...f.azs.map((az) => h('tr', { 'data-az': az.az },
    h('td', {}, az.az, h('small', {}, az.zone)),
    az.tiers.map((t) => h('td', { class: 'num' }, jobs(t.jobs), h('small', {}, `${t.cores.toLocaleString()} cores`))),
    h('td', { class: 'num' }, jobs(az.jobs), h('small', {}, `${az.cores.toLocaleString()} cores`)),
    readinessCell(az),
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
  $('confirm-az').value = '';
  $('reason').value = '';
  $('trigger-error').textContent = '';
  $('trigger-role-note').textContent = state.me.role === 'operator'
    ? 'Check the plan, then type the failed AZ’s name and a reason. A second press (from anywhere) joins the running evacuation.'
    : `You are signed in as a viewer (${state.me.user}): you may look at the plan, the server refuses the evacuation.`;
  $('trigger').showModal();
  updateEvacuateButton();
  loadPlan();
});

$('trigger-cancel').addEventListener('click', () => $('trigger').close());
$('trigger-source').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });
$('trigger-target').addEventListener('change', () => { updateEvacuateButton(); loadPlan(); });
$('confirm-az').addEventListener('input', updateEvacuateButton);
$('reason').addEventListener('input', updateEvacuateButton);

function updateEvacuateButton() {
  const ready = $('confirm-az').value.trim() === $('trigger-source').value && $('reason').value.trim().length >= 3
    && $('trigger-source').value !== $('trigger-target').value;
  $('evacuate').disabled = !ready;
}

let planSeq = 0;
async function loadPlan() {
  const from = $('trigger-source').value;
  const to = $('trigger-target').value;
  const box = $('plan-summary');
  const seq = ++planSeq;
  if (from === to) { box.replaceChildren(h('p', { class: 'bad' }, 'The failed AZ and the target are the same: choose another target.')); return; }
  box.replaceChildren(h('p', { class: 'muted' }, `Planning ${from} → ${to}… (acts on nothing)`));
  let p;
  try {
    p = await api(`/api/plan?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  } catch (err) {
    if (seq === planSeq) box.replaceChildren(h('p', { class: 'bad' }, err.message));
    return;
  }
  if (seq !== planSeq) return;
  const moves = p.tiers.reduce((n, t) => n + t.admitted, 0);
  const list = (items, fmt) => h('ul', {}, items.map((i) => h('li', {}, fmt(i))));
  box.replaceChildren(
    h('p', {}, h('strong', {}, `${jobs(moves)} move`), ` from ${from} to ${to} (catalog v${p.catalogVersion}); ${to} free: ${p.capacityBefore.cores.toLocaleString()} cores before, ${p.capacityAfter.cores.toLocaleString()} after.`),
    h('table', { id: 'plan-tiers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'tier'), h('th', {}, 'moves'), h('th', {}, 'cores'), h('th', {}, 'will not fit'), h('th', {}, 'preempts'))),
      h('tbody', {}, p.tiers.map((t) => h('tr', { 'data-tier': t.tier }, h('td', {}, t.tier), h('td', { class: 'num' }, t.admitted), h('td', { class: 'num' }, t.cores.toLocaleString()), h('td', { class: t.notAdmitted ? 'warn' : '' }, t.notAdmitted), h('td', { class: 'num' }, t.preempted))))),
    h('p', { class: p.preemptions.count ? 'warn' : 'muted' }, `${p.preemptions.count} P3 job(s) in ${to} will be suspended to make room.`),
    p.preemptions.count ? list(p.preemptions.items, (x) => `${x.key} (${x.cores} cores) for ${x.forJob}`) : null,
    h('p', { class: p.notAdmitted.count ? 'warn' : 'muted' }, `${p.notAdmitted.count} job(s) will NOT move.`),
    p.notAdmitted.count ? list(p.notAdmitted.items, (x) => `${x.tier} ${x.key}: ${x.reason}`) : null,
    h('p', { class: p.findings.blocking ? 'bad' : 'muted' }, `${p.findings.count} readiness finding(s), ${p.findings.blocking} blocking.`),
    p.findings.count ? list(p.findings.items, (x) => `${x.blocking ? 'BLOCKING ' : ''}${x.code} ${x.job}: ${x.message}`) : null,
  );
}

$('evacuate').addEventListener('click', async () => {
  $('trigger-error').textContent = '';
  $('evacuate').disabled = true;
  try {
    const started = await api('/api/evacuations', {
      method: 'POST',
      body: { sourceAz: $('trigger-source').value, targetAz: $('trigger-target').value, confirm: $('confirm-az').value, reason: $('reason').value },
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
  $('progress').hidden = false;
  $('evac-id').textContent = id;
  $('report-links').hidden = true;
  const notice = $('evac-notice');
  notice.hidden = !joined;
  notice.textContent = joined ? 'This evacuation was already running: your press joined it (nothing new started).' : '';
  const es = new EventSource(`/api/evacuations/${encodeURIComponent(id)}/events`);
  state.events = es;
  es.addEventListener('progress', (e) => {
    state.progress = JSON.parse(e.data);
    state.progressAt = Date.now();
    renderProgress();
    if (['done', 'aborted', 'failed'].includes(state.progress.phase)) { es.close(); loadEvacuations(); }
  });
  es.addEventListener('problem', (e) => toast(JSON.parse(e.data).error));
  es.onerror = () => { if (state.progress && ['done', 'aborted', 'failed'].includes(state.progress.phase)) es.close(); };
}

function elapsedNow(p) {
  const finished = ['done', 'aborted', 'failed'].includes(p.phase);
  return p.elapsedSeconds + (finished ? 0 : (Date.now() - state.progressAt) / 1000);
}

function tick() {
  if (state.progress) renderProgress();
}

function renderProgress() {
  const p = state.progress;
  const finished = ['done', 'aborted', 'failed'].includes(p.phase);
  const phase = $('phase');
  phase.textContent = p.paused && !finished ? 'paused' : p.phase;
  phase.className = `phase ${p.paused && !finished ? 'paused' : p.phase}`;
  $('evac-meta').textContent = `${p.sourceAz} → ${p.targetAz} · ${p.mode}${p.abortedBy ? ` · aborted by ${p.abortedBy}` : ''}`;
  const elapsed = elapsedNow(p);
  $('elapsed').textContent = secs(elapsed);
  const operator = state.me.role === 'operator';
  for (const [id, enabled] of [['pause', !finished && !p.paused], ['resume', !finished && p.paused], ['abort', !finished]]) {
    $(id).disabled = !operator || !enabled;
    $(id).title = operator ? '' : 'operators only';
  }
  $('tiers').tBodies[0].replaceChildren(...p.tiers.map((t) => {
    const tierSeconds = t.endedAtMs ? (t.endedAtMs - p.startedAtMs) / 1000 : t.state === 'waiting' ? null : elapsed;
    const over = tierSeconds !== null && tierSeconds > t.rtoTargetSeconds;
    const pct = (n) => `${t.planned ? (100 * n) / t.planned : 0}%`;
    const bar = h('div', { class: 'bar' });
    for (const [cls, n] of [['done', t.succeeded], ['failed', t.failed], ['skipped', t.skipped], ['running', t.running]]) {
      const seg = h('i', { class: cls, title: `${cls}: ${n}` });
      seg.style.width = pct(n);
      bar.append(seg);
    }
    return h('tr', { 'data-tier': t.tier, 'data-state': t.state },
      h('td', {}, t.tier), h('td', {}, bar),
      h('td', { 'data-field': 'planned' }, t.planned), h('td', { 'data-field': 'running' }, t.running),
      h('td', { 'data-field': 'succeeded', class: 'ok' }, t.succeeded), h('td', { 'data-field': 'failed', class: t.failed ? 'bad' : '' }, t.failed),
      h('td', { 'data-field': 'skipped' }, t.skipped),
      h('td', { class: over ? 'over' : '' }, `${tierSeconds === null ? 'waiting' : secs(tierSeconds)} / ${secs(t.rtoTargetSeconds)}${t.state === 'done' ? (over ? ' · missed' : ' · met') : ''}`));
  }));
  if (p.reportFile) {
    const base = `/api/evacuations/${encodeURIComponent(p.evacuationId)}`;
    $('report-link').href = `${base}/report.html`;
    $('report-json').href = `${base}/report.json`;
    $('report-links').hidden = false;
  }
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
  $('evacuations').tBodies[0].replaceChildren(...state.evacuations.map((e) => h('tr', { onclick: () => watch(e.evacuationId), 'data-id': e.evacuationId },
    h('td', { class: 'mono' }, e.evacuationId), h('td', { class: e.status === 'RUNNING' ? 'warn' : e.status === 'COMPLETED' ? 'ok' : 'bad' }, e.status),
    h('td', {}, new Date(e.startedAt).toLocaleString()), h('td', {}, e.closedAt ? new Date(e.closedAt).toLocaleString() : '—'))));
}

// ---- add-on API (console/plugins.ts page scripts) -------------------------------------

window.azEvac = {
  api, h, me: null,
  /** An empty card section with a title, appended to the page, for an add-on to fill. */
  panel(title) {
    const section = h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', {}, title)));
    $('panels').append(section);
    return section;
  },
};

boot().catch((err) => toast(err.message));
