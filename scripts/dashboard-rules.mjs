#!/usr/bin/env node
/**
 * Every PromQL query of a Grafana dashboard as a Prometheus rules file, for `promtool check
 * rules` (promtool has no dashboard checker; a recording rule's expression is parsed and
 * checked like any query). Grafana's interval variables become fixed durations first:
 * $__range 1h, $__rate_interval and $__interval 5m (https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/#global-variables).
 * Any other `$` variable in a query is refused, naming the panel: its value is unknown here.
 * Writes the rules file (JSON, which YAML parsers read) to stdout. Used by scripts/promtool.sh.
 * Usage: node scripts/dashboard-rules.mjs deploy/grafana/az-evac-dashboard.json
 */
import { readFileSync } from 'node:fs';

const INTERVALS = { __range: '1h', __rate_interval: '5m', __interval: '5m' };

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/dashboard-rules.mjs <dashboard.json>');
  process.exit(2);
}
const dashboard = JSON.parse(readFileSync(file, 'utf8'));
const rules = [];
for (const panel of dashboard.panels ?? []) {
  for (const target of panel.targets ?? []) {
    if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
    const expr = target.expr.replace(/\$\{?(\w+)\}?/g, (whole, name) => {
      if (INTERVALS[name]) return INTERVALS[name];
      console.error(`${file}: panel ${panel.id} "${panel.title}" query ${target.refId} uses ${whole}, which has no value here. Fix: add it to INTERVALS in scripts/dashboard-rules.mjs, or use a Grafana global interval variable`);
      process.exit(1);
    });
    rules.push({ record: `dashboard:panel_${panel.id}:${target.refId}`, expr });
  }
}
if (rules.length === 0) {
  console.error(`${file}: no panel has a PromQL query (targets[].expr). Fix: point it at a Grafana dashboard JSON`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 2)}\n`);
