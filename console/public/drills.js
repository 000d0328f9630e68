// Drills panel of the console (served by console/drill-routes.ts): recent drills with
// their phase and verdict; an open approval gate shows its prompt with Approve / Reject
// (operators; Reject asks for a reason in a dialog). Polls every 3 s. Times in UTC, local on hover.
(() => {
  const { api, h, utc } = window.azEvac;
  const panel = window.azEvac.panel('Drills');
  const body = h('tbody');
  const table = h('table', { id: 'drills' }, h('thead', {}, h('tr', {}, h('th', {}, 'drill'), h('th', {}, 'status'), h('th', {}, 'started'), h('th', {}, ''))), body);
  const gate = h('div', { id: 'drill-gate' });
  const gateError = h('p', { class: 'error', role: 'alert' });
  panel.append(gate, gateError, table);

  const error = h('p', { class: 'error', id: 'reject-error', role: 'alert' });
  const reasonInput = h('input', { id: 'reject-reason', autocomplete: 'off' });
  const drillName = h('span', { class: 'mono', id: 'reject-drill' });
  const dialog = h('dialog', { id: 'reject-dialog' }, h('form', { method: 'dialog' },
    h('h2', {}, 'Reject ', drillName, '?'),
    h('p', { class: 'muted' }, 'Your reason goes to the drill\'s record and the audit log.'),
    h('label', { for: 'reject-reason' }, 'Reason'), reasonInput, error,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'reject-cancel', onclick: () => dialog.close() }, 'Keep waiting'),
      h('button', { type: 'button', class: 'danger', id: 'reject-confirm', onclick: () => send(drillName.textContent, 'reject', { reason: reasonInput.value }) }, 'Reject'))));
  document.body.append(dialog);

  /** Send a decision; a refusal is shown in the dialog (reject) or the panel (approve). */
  async function send(id, action, body) {
    error.textContent = '';
    try {
      await api(`/api/drills/${encodeURIComponent(id)}/${action}`, { method: 'POST', body });
      if (dialog.open) dialog.close();
    } catch (err) {
      if (dialog.open) error.textContent = err.message;
      else gateError.textContent = err.message;
    }
    await refresh();
  }

  function decide(id, action) {
    if (action === 'approve') return send(id, 'approve', {});
    drillName.textContent = id;
    reasonInput.value = '';
    error.textContent = '';
    dialog.showModal();
    reasonInput.focus();
    return undefined;
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
      h('td', {}, utc(d.startedAt)),
      h('td', {}, d.status === 'RUNNING' ? (d.scheduleId ? `schedule ${d.scheduleId}` : '')
        : h('a', { href: `/api/drills/${encodeURIComponent(d.drillId)}/report.html`, target: '_blank' }, 'report')))));
    const waiting = list.filter((d) => d.phase === 'awaiting-approval');
    const gates = await Promise.all(waiting.map((d) => api(`/api/drills/${encodeURIComponent(d.drillId)}`).catch(() => null)));
    const operator = window.azEvac.me?.role === 'operator';
    gate.replaceChildren(...gates.filter((s) => s && s.approval).map((s) => h('div', { class: 'card', 'data-gate': s.drillId },
      h('p', {}, h('b', {}, s.drillId), `: ${s.approval.prompt} (until `, utc(s.approval.deadlineMs), ')'),
      ...(operator ? [
        h('button', { onclick: () => decide(s.drillId, 'approve') }, 'Approve'),
        h('button', { onclick: () => decide(s.drillId, 'reject') }, 'Reject'),
      ] : [h('span', {}, 'an operator approves or rejects')]))));
  }

  refresh();
  setInterval(refresh, 3000);
})();
