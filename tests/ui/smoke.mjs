// Browser smoke test of the web UI: starts the debug binary on loopback, drives Debian's
// chromium through playwright-core, and fails on any console error or CSP violation.
//
//   node tests/ui/smoke.mjs          (after `cargo build`; `make ui-test` does both)
//
// Env: OPEN_NOTEBOOK_BIN (default target/debug/open-notebook), CHROMIUM (default
// /usr/bin/chromium), UI_SCREENSHOT (default a fresh temp folder).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.OPEN_NOTEBOOK_BIN || join(root, 'target', 'debug', 'open-notebook');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const password = 'ui-smoke-password-correct-horse';

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitHealthy(url, server, deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (server.exitCode !== null) throw new Error(`server exited early (${server.exitCode})`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not healthy at ${url}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

const work = mkdtempSync(join(tmpdir(), 'open-notebook-ui-'));
const dataDir = join(work, 'data');
const profile = join(work, 'chromium-profile');
const screenshot = process.env.UI_SCREENSHOT || join(work, 'notebook.png');
const [apiPort, uiPort] = [await freePort(), await freePort()];
const origin = `http://127.0.0.1:${uiPort}`;

const serverLog = [];
const server = spawn(
  bin,
  ['serve', '--data-dir', dataDir, '--api-port', String(apiPort), '--ui-port', String(uiPort)],
  {
    env: { ...process.env, OPEN_NOTEBOOK_PASSWORD: password, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
server.stdout.on('data', (d) => serverLog.push(String(d)));
server.stderr.on('data', (d) => serverLog.push(String(d)));

let browser;
let failed = false;
try {
  await waitHealthy(`${origin}/health`, server, 30_000);
  // A fresh profile folder per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 900 },
  });
  const page = browser.pages()[0] || (await browser.newPage());

  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) problems.push(`off-origin request: ${url}`);
  });
  // Runs before the page's own scripts and outside its CSP, so it sees every violation.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  // Sign in.
  const first = await page.goto(`${origin}/`);
  check(/script-src 'self'/.test(first.headers()['content-security-policy'] || ''), 'page is served with the strict CSP');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#status', { hasText: 'Invalid password' }).waitFor();
  check(true, 'a wrong password shows the API detail');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Notebooks' }).waitFor();
  const stored = await page.evaluate(() => ({
    session: Object.entries(sessionStorage),
    local: localStorage.length,
  }));
  check(stored.session.length === 1 && stored.session[0][1] !== password, 'a session token (not the password) is in sessionStorage');
  check(stored.local === 0, 'nothing is in localStorage');

  // Create a notebook.
  await page.getByLabel('Name').fill('Birds of prey');
  await page.getByLabel('Description (optional)').fill('Field notes');
  await page.getByRole('button', { name: 'Create notebook' }).click();
  await page.getByRole('heading', { name: 'Birds of prey' }).waitFor();
  check(page.url().includes('#/notebook/notebook%3A'), 'the new notebook opens');

  // Add a text source whose content holds markup that must stay text.
  await page.getByLabel('Title (optional)').first().fill('Kestrel observations');
  await page
    .getByLabel('Text', { exact: true })
    .fill('The kestrel hovers <i>above</i> the meadow & hunts voles at dawn.');
  await page.getByRole('button', { name: 'Add text' }).click();
  await page.locator('#sources li', { hasText: 'Kestrel observations' }).waitFor();
  check(true, 'the text source is listed');

  // Upload a small text file.
  await page.getByLabel(/^File/).setInputFiles({
    name: 'falcon.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('The peregrine falcon stoops at great speed.\n'),
  });
  await page.getByRole('button', { name: 'Upload a file' }).click();
  await page.locator('#sources li', { hasText: 'falcon' }).waitFor();
  check((await page.locator('#sources li').count()) === 2, 'the uploaded file is listed');

  // Add a note.
  await page.getByLabel('Note (Markdown)').fill('Check the nest box on **Sunday**.');
  await page.getByRole('button', { name: 'Save note' }).click();
  await page.locator('#notes summary', { hasText: '' }).first().waitFor();
  check((await page.locator('#notes li').count()) === 1, 'the note is listed');

  // Search inside the notebook.
  await page.getByRole('searchbox', { name: 'Search this notebook' }).fill('kestrel');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const hit = page.locator('#results li', { hasText: 'Kestrel observations' });
  await hit.waitFor();
  check((await hit.locator('.snippet b').count()) >= 1, 'the snippet highlights the match in <b>');
  check((await page.locator('#results i').count()) === 0, 'markup in the source text is not rendered');
  check((await hit.locator('.snippet').innerText()).includes('<i>above</i>'), 'markup in the snippet is shown as text');

  // An API error reaches the user.
  await page.getByLabel('Web address').fill('ftp://127.0.0.1/refused-by-scheme');
  await page.getByRole('button', { name: 'Add a link' }).click();
  await page.locator('#status.error').waitFor();
  check((await page.locator('#status').innerText()).length > 0, `a refused link shows the API detail ("${await page.locator('#status').innerText()}")`);
  // That refusal is an expected error status: the browser logs it as a failed resource load.
  for (let i = problems.length - 1; i >= 0; i--) {
    if (/Failed to load resource: the server responded with a status of [45]\d\d/.test(problems[i])) problems.splice(i, 1);
  }

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);

  // A revoked token sends the user back to the login page.
  const token = await page.evaluate(() => Object.values(sessionStorage)[0]);
  const out = await fetch(`${origin}/api/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  check(out.ok, 'logout through the API succeeds');
  await page.getByRole('link', { name: '← All notebooks' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  check((await page.evaluate(() => sessionStorage.length)) === 0, 'a 401 clears the token and shows the login page');
  for (let i = problems.length - 1; i >= 0; i--) {
    if (/status of 401/.test(problems[i])) problems.splice(i, 1);
  }

  // Sign in again, then sign out with the button.
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Notebooks' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  check((await page.evaluate(() => sessionStorage.length)) === 0, 'Sign out clears the session');

  const csp = await page.evaluate(() => window.__csp);
  check(csp.length === 0, `no CSP violations ${csp.length ? JSON.stringify(csp) : ''}`);
  check(problems.length === 0, `no console errors or failed requests ${problems.length ? JSON.stringify(problems) : ''}`);
  console.log('UI smoke test passed');
} catch (err) {
  failed = true;
  console.error(String(err && err.stack ? err.stack : err));
  console.error('--- server log ---\n' + serverLog.join(''));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    process.kill(server.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.exitCode === null && server.signalCode === null) process.kill(server.pid, 'SIGKILL');
  }
  if (!process.env.UI_SCREENSHOT) {
    // Keep the screenshot, drop the database and the browser profile.
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
