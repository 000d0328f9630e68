/**
 * The emergency console in real Chromium (Debian's, headless, playwright-core) on a real
 * platform: a viewer's press is refused and starts nothing; two operators in two browsers
 * press Evacuate together and start ONE evacuation (one started, one joined); the page
 * shows live progress until done and opens the HTML report.
 * With AZ_EVAC_SCREENSHOTS=1 it also writes docs/trigger.png, docs/console.png and docs/report.png (see
 * scripts/screenshots.sh).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { EvacuationReport } from '../../domain/report.js';
import { formatSeconds } from '../../domain/report-html.js';
import { startConsoleHarness, type ConsoleHarness } from '../setup/console-harness.js';
import { launchChromium, type TestBrowser } from '../setup/chromium.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SCREENSHOTS = process.env.AZ_EVAC_SCREENSHOTS === '1';
const ID = 'az-evac-emergency-az-a-to-az-b';

let c: ConsoleHarness;
const browsers: TestBrowser[] = [];

beforeAll(async () => {
  c = await startConsoleHarness({ jobs: SCREENSHOTS ? 60 : 16, seed: 11, timeScale: SCREENSHOTS ? 20 : 25, tiers: { P2: { maxConcurrency: 4 } } });
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  await c?.close([ID]);
});

async function signIn(token: string): Promise<Page> {
  const b = await launchChromium();
  browsers.push(b);
  const page = b.context.pages()[0] ?? await b.context.newPage();
  await page.goto(c.url);
  await page.fill('#login-token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#fleet tbody tr[data-az="az-a"]');
  return page;
}

async function prepareTrigger(page: Page): Promise<void> {
  await page.click('#open-trigger');
  await page.selectOption('#trigger-source', 'az-a');
  await page.selectOption('#trigger-target', 'az-b');
  // The plan preview runs the planner on the server: 30 s was short beside another suite on 2 cores.
  await page.waitForSelector('#plan-tiers', { timeout: 90_000 });
  await page.fill('#confirm-az', 'az-a');
  await page.fill('#reason', 'az-a control plane unreachable (browser test)');
}

async function runsOf(workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of c.h.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n += 1;
  return n;
}

describe('emergency console in Chromium', () => {
  it('a viewer sees the plan but the Evacuate press is refused and nothing starts', async () => {
    const page = await signIn(c.tokens.viewer);
    await expect(page.textContent('#who-role')).resolves.toBe('viewer');
    await prepareTrigger(page);
    await expect(page.textContent('#plan-summary')).resolves.toMatch(/jobs? move from az-a to az-b/);
    await page.click('#evacuate');
    await page.locator('#trigger-error', { hasText: /./ }).waitFor();
    await expect(page.textContent('#trigger-error')).resolves.toMatch(/victor is a viewer; only operators/);
    await expect(runsOf(ID)).resolves.toBe(0);
    expect((await c.audit()).some((l) => l.user === 'victor' && l.action === 'evacuate' && l.outcome === 'rejected')).toBe(true);
  });

  it('two operators in two browsers press together: one evacuation, watched live to done, then the report', async () => {
    const [a, b] = [await signIn(c.tokens.operator), await signIn(c.tokens.operator)];
    await Promise.all([prepareTrigger(a), prepareTrigger(b)]);
    if (SCREENSHOTS) await a.screenshot({ path: `${DOCS}trigger.png` });
    await Promise.all([a.click('#evacuate'), b.click('#evacuate')]);
    await Promise.all([a.waitForSelector('#progress:not([hidden])'), b.waitForSelector('#progress:not([hidden])')]);
    const notices = await Promise.all([a, b].map((p) => p.locator('#evac-notice').isVisible()));
    expect(notices.filter(Boolean)).toHaveLength(1); // exactly one press joined
    expect(await runsOf(ID)).toBe(1);
    const audit = (await c.audit()).filter((l) => l.action === 'evacuate' && l.evacuationId === ID).map((l) => l.outcome).sort();
    expect(audit).toEqual(['accepted', 'joined']);

    // Live progress over server-sent events, no reload.
    await a.waitForSelector('#tiers tbody tr[data-tier="P2"]');
    if (SCREENSHOTS) {
      await a.locator('#tiers tr[data-tier="P1"] [data-field="succeeded"]', { hasText: /^[1-9]/ }).waitFor({ timeout: 60_000 });
      await a.screenshot({ path: `${DOCS}console.png`, fullPage: true });
    }
    await a.locator('#phase', { hasText: /^done$/ }).waitFor({ timeout: 150_000 });
    const result = await c.h.client.result(ID);
    for (const t of result.tiers.filter((x) => x.planned > 0)) {
      await expect(a.textContent(`#tiers tr[data-tier="${t.tier}"] [data-field="succeeded"]`)).resolves.toBe(String(t.succeeded));
      await expect(a.textContent(`#tiers tr[data-tier="${t.tier}"] [data-field="planned"]`)).resolves.toBe(String(t.planned));
    }
    await b.locator('#phase', { hasText: /^done$/ }).waitFor({ timeout: 30_000 });

    // The report opens in a new tab: timeline SVG and per-tier numbers.
    await a.waitForSelector('#report-links:not([hidden])');
    const [report] = await Promise.all([a.context().waitForEvent('page'), a.click('#report-link')]);
    await report.waitForLoadState();
    await expect(report.title()).resolves.toBe(`Evacuation ${ID}`);
    expect(await report.locator('#timeline svg').count()).toBe(1);
    // Every per-tier number of the HTML matches the JSON report; every job that ran has its bar.
    const json = JSON.parse(await readFile(result.reportFile, 'utf8')) as EvacuationReport;
    for (const t of json.tiers) {
      for (const field of ['jobs', 'succeeded', 'failed', 'skipped'] as const) {
        await expect(report.textContent(`#tiers tr[data-tier="${t.tier}"] [data-field="${field}"]`)).resolves.toBe(String(t[field]));
      }
      for (const field of ['rtoSeconds', 'rtoTargetSeconds', 'worstRpoSeconds', 'rpoTargetSeconds'] as const) {
        await expect(report.textContent(`#tiers tr[data-tier="${t.tier}"] [data-field="${field}"]`)).resolves.toBe(formatSeconds(t[field]));
      }
    }
    expect(json.tiers.find((t) => t.tier === 'P0')?.succeeded).toBe(result.tiers.find((t) => t.tier === 'P0')?.succeeded);
    const svgText = await report.locator('#timeline svg').innerHTML();
    const ran = json.jobs.filter((j) => j.outcome === 'running');
    expect(ran.length, json.jobs.map((j) => `${j.tier} ${j.name}: ${j.outcome} ${j.reason ?? ''}`).join('\n')).toBeGreaterThan(0);
    for (const j of ran) expect(svgText).toContain(`${j.namespace}/${j.name}`);
    for (const phase of ['snapshot lookup', 'start-up']) expect(svgText).toContain(phase);
    if (SCREENSHOTS) await report.screenshot({ path: `${DOCS}report.png`, fullPage: true });
  }, SCREENSHOTS ? 300_000 : 180_000);
});
