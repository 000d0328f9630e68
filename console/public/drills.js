// Drills panel of the console (served by console/drill-routes.ts): recent drills with
// their phase and verdict; an open approval gate shows its prompt with Approve / Reject
// (operators). Polls every 3 s.
(() => {
  const { api, h } = window.azEvac;
  const panel = window.azEvac.panel('Drills');
  const body = h('tbody');
  const table = h('table', { id: 'drills' }, h('thead', {}, h('tr', {}, h('th', {}, 'drill'), h('th', {}, 'status'), h('th', {}, 'started'), h('th', {}, ''))), body);
  const gate = h('div', { id: 'drill-gate' });
  panel.append(gate, table);

  async function decide(id, action) {
    const reason = action === 'approve' ? '' : window.prompt(`Why ${action} ${id}?`) || '';
    try {
      await api(`/api/drills/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: action === 'approve' ? {} : { reason } });
    } catch (err) {
      window.alert(err.message);
    }
    await refresh();
  }

  async function refresh() {
    let list;
    try {
      list = await api('/api/drills');
    } catch {
      return;
    }
    body.replaceChildren(...list.map((d) => h('tr', { 'data-id': d.drillId },
      h('td', { class: 'mono' }, d.drillId),
      h('td', { class: d.passed === true ? 'ok' : d.passed === false ? 'bad' : 'warn' }, `${d.phase ?? d.status}${d.passed === undefined ? '' : d.passed ? ' · PASS' : ' · FAIL'}`),
      h('td', {}, new Date(d.startedAt).toLocaleString()),
      h('td', {}, d.status === 'RUNNING' ? (d.scheduleId ? `schedule ${d.scheduleId}` : '')
        : h('a', { href: `/api/drills/${encodeURIComponent(d.drillId)}/report.html`, target: '_blank' }, 'report')))));
    const waiting = list.filter((d) => d.phase === 'awaiting-approval');
    const gates = await Promise.all(waiting.map((d) => api(`/api/drills/${encodeURIComponent(d.drillId)}`).catch(() => null)));
    const operator = window.azEvac.me?.role === 'operator';
    gate.replaceChildren(...gates.filter((s) => s && s.approval).map((s) => h('div', { class: 'card', 'data-gate': s.drillId },
      h('p', {}, h('b', {}, s.drillId), `: ${s.approval.prompt} (until ${new Date(s.approval.deadlineMs).toLocaleTimeString()})`),
      ...(operator ? [
        h('button', { onclick: () => decide(s.drillId, 'approve') }, 'Approve'),
        h('button', { onclick: () => decide(s.drillId, 'reject') }, 'Reject'),
      ] : [h('span', {}, 'an operator approves or rejects')]))));
  }

  refresh();
  setInterval(refresh, 3000);
})();
