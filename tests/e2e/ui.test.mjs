// Browser test of Muster's web UI: Chromium walks the integration lifecycle against the
// real `muster serve` and the moto AWS emulator, from the empty installation to an
// entity page with relations.
//
// Needs: MUSTER_BIN (else $CARGO_TARGET_DIR/debug/muster, else target/debug/muster),
// `moto_server` and `python3` with boto3 on PATH, Chromium at /usr/bin/chromium (or
// CHROMIUM_BIN) and `npm ci` run in this folder. Run from the repository root:
//
//   MUSTER_BIN=target/debug/muster node --test tests/e2e/ui.test.mjs
//
// Every process listens on 127.0.0.1 and the browser aborts any request to another host.
// On failure the test saves a screenshot and keeps the server logs, and prints where.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MUSTER_BIN = process.env.MUSTER_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'muster');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const FIXTURE_SCRIPT = join(ROOT, 'crates/muster-aws/tests/fixtures/build_account.py');

// Emulator credentials: moto accepts any key while it does not enforce IAM authorization.
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'e2e-secret-moto-does-not-check';

const STARTUP_TIMEOUT_MS = 60_000;
const SYNC_TIMEOUT_MS = 120_000;

const workDir = mkdtempSync(join(tmpdir(), 'muster-e2e-'));
const children = [];
let failed = false;

/** Returns a TCP port that was free on 127.0.0.1 at the time of the call. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Returns an environment that cannot reach real AWS: no profile, no keys, no instance metadata. */
function isolatedEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_')) delete env[name];
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'us-east-1', ...extra };
}

/** Starts a long-running process with its output in a log file under the work folder. */
function startProcess(name, command, args, env) {
  const logPath = join(workDir, `${name}.log`);
  const log = openSync(logPath, 'w');
  const child = spawn(command, args, { env, stdio: ['ignore', log, log] });
  child.logPath = logPath;
  children.push(child);
  return child;
}

/** Polls `url` until it responds with 200, failing early if `child` exits. */
async function waitForOk(url, child) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${child.spawnfile} exited with ${child.exitCode}; see ${child.logPath}`);
    }
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
  throw new Error(`${url} did not respond within ${STARTUP_TIMEOUT_MS} ms; see ${child.logPath}`);
}

/** Creates the IAM users the test expects and returns their names. */
function buildAccount(endpoint) {
  const env = isolatedEnv();
  if (existsSync(FIXTURE_SCRIPT)) {
    const result = spawnSync('python3', [FIXTURE_SCRIPT, endpoint], { env, encoding: 'utf8' });
    assert.equal(result.status, 0, `build_account.py failed: ${result.stderr}`);
    return Object.keys(JSON.parse(result.stdout).users);
  }
  // Without the connector's fixture, one user in a group is enough to see relations.
  const script = [
    'import sys, boto3',
    'iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",',
    '                   aws_access_key_id="fixture", aws_secret_access_key="fixture")',
    'iam.create_group(GroupName="e2e-group")',
    'iam.create_user(UserName="e2e-user")',
    'iam.add_user_to_group(GroupName="e2e-group", UserName="e2e-user")',
  ].join('\n');
  const result = spawnSync('python3', ['-c', script, endpoint], { env, encoding: 'utf8' });
  assert.equal(result.status, 0, `creating the IAM user failed: ${result.stderr}`);
  return ['e2e-user'];
}

let musterBase;
let users;
let context;

before(async () => {
  assert.ok(existsSync(MUSTER_BIN), `muster binary not found at ${MUSTER_BIN}: build it or set MUSTER_BIN`);
  assert.ok(existsSync(CHROMIUM_BIN), `Chromium not found at ${CHROMIUM_BIN}: apt-get install chromium`);

  const motoPort = await freePort();
  const endpoint = `http://127.0.0.1:${motoPort}`;
  const moto = startProcess('moto', 'moto_server', ['-H', '127.0.0.1', '-p', String(motoPort)],
    isolatedEnv({ MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' }));
  await waitForOk(`${endpoint}/moto-api/`, moto);
  users = buildAccount(endpoint);

  const musterPort = await freePort();
  musterBase = `http://127.0.0.1:${musterPort}`;
  const muster = startProcess('muster', MUSTER_BIN,
    ['serve', '--listen', `127.0.0.1:${musterPort}`, '--data-dir', join(workDir, 'data')],
    isolatedEnv({
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    }));
  await waitForOk(`${musterBase}/healthz`, muster);

  context = await chromium.launchPersistentContext(join(workDir, 'chromium-profile'), {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    return hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
});

after(async () => {
  await context?.close();
  for (const child of children) {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  if (failed) {
    console.error(`kept logs and screenshots in ${workDir}`);
  } else {
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('integration lifecycle in the browser', { timeout: 300_000 }, async () => {
  const page = context.pages()[0] ?? await context.newPage();
  try {
    await walkLifecycle(page);
  } catch (error) {
    failed = true;
    const screenshot = join(workDir, 'failure.png');
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    console.error(`screenshot of the failure: ${screenshot}`);
    throw error;
  }
});

test('upload a CSV file to a custom integration', { timeout: 120_000 }, async () => {
  const page = await context.newPage();
  try {
    await walkUpload(page);
  } catch (error) {
    failed = true;
    const screenshot = join(workDir, 'upload-failure.png');
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    console.error(`screenshot of the failure: ${screenshot}`);
    throw error;
  } finally {
    await page.close();
  }
});

async function walkLifecycle(page) {
  // The empty installation explains how to connect an account.
  await page.goto(`${musterBase}/integrations`);
  await page.getByRole('heading', { name: 'Connect your first AWS account' }).waitFor();
  await page.getByRole('link', { name: 'Add integration' }).first().click();
  await page.getByRole('heading', { name: 'Add integration' }).waitFor();

  // An empty form comes back with an error next to each required field.
  await page.getByRole('button', { name: 'Add integration' }).click();
  await page.locator('#name-error').waitFor();
  assert.match(await page.locator('#name-error').innerText(), /required/);
  assert.match(await page.locator('#primary_owner-error').innerText(), /required/);
  // Invalid controls get the danger colour (--danger, #b42318) as their border.
  for (const id of ['name', 'primary_owner']) {
    const border = await page.locator(`#${id}`).evaluate((control) => getComputedStyle(control).borderTopColor);
    assert.equal(border, 'rgb(180, 35, 24)', `#${id} has no red border`);
  }

  await page.getByLabel('Name').fill('AWS sandbox');
  await page.getByLabel('Primary owner').fill('owner@example.com');
  await page.getByLabel('Access key of an IAM user').check();
  await page.getByLabel('Access key id').fill(ACCESS_KEY_ID);
  await page.getByLabel('Secret access key').fill(SECRET_ACCESS_KEY);
  await page.getByRole('button', { name: 'Add integration' }).click();
  await page.waitForURL(/\/integrations\/aws\/[0-9A-Z]{26}$/);
  await page.getByRole('heading', { name: 'AWS sandbox' }).waitFor();
  assert.ok(!(await page.content()).includes(SECRET_ACCESS_KEY), 'the secret is not on the page');

  // Sync now queues a run. The panel polls, and the page reloads when the run ends.
  await page.getByRole('button', { name: 'Sync now' }).click();
  const status = page.locator('#sync-panel .status');
  await status.getByText('Connected').waitFor({ timeout: SYNC_TIMEOUT_MS });
  await page.locator('#sync-panel .message').getByText('Data available').waitFor();

  const integrationPage = page.url();
  await checkListKeepsSyncNowInView(page);
  await page.goto(integrationPage);

  const identities = page.locator('#identity-table');
  await identities.waitFor();
  for (const user of users) {
    await identities.getByRole('link', { name: user, exact: true }).waitFor();
  }

  // The search box narrows the table in place (htmx swaps the inventory section).
  await page.getByRole('searchbox').fill(users[0]);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/search=/);
  if (users.length > 1) {
    await identities.getByRole('link', { name: users[1], exact: true }).waitFor({ state: 'detached' });
  }

  // The first user's page lists relations both ways.
  await identities.getByRole('link', { name: users[0], exact: true }).click();
  await page.getByRole('heading', { name: users[0] }).waitFor();
  await page.getByRole('heading', { name: 'What this has access to' }).waitFor();
  const granted = page.locator('#children tbody tr');
  assert.ok(await granted.count() > 0, `${users[0]} has no relations listed`);
  await page.locator('#parents').waitFor();
}

/**
 * Adds an integration with long owner addresses and checks, at a wide and a narrow window,
 * that every Sync now button of the list is inside the table's visible box and that the
 * page itself does not scroll sideways.
 */
async function checkListKeepsSyncNowInView(page) {
  const response = await fetch(`${musterBase}/api/v1/integrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      app: 'aws',
      name: 'AWS production account with a long name',
      primary_owner: 'platform.security.and.compliance.owners.group@example-corporation.com',
      secondary_owners: ['second.owner.with.a.long.address@example-corporation.com'],
      credentials: { access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY },
    }),
  });
  assert.equal(response.status, 201, await response.text());

  for (const width of [1400, 800]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${musterBase}/integrations`);
    const layout = await page.evaluate(() => {
      const box = document.querySelector('.table-scroll').getBoundingClientRect();
      const buttons = [...document.querySelectorAll('td.actions button')].map((button) => button.getBoundingClientRect());
      return {
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        boxLeft: box.left,
        boxRight: box.right,
        buttons: buttons.map(({ left, right }) => ({ left, right })),
      };
    });
    assert.equal(layout.pageOverflow, 0, `the page scrolls sideways at ${width} px`);
    assert.equal(layout.buttons.length, 2);
    for (const button of layout.buttons) {
      assert.ok(button.left >= layout.boxLeft, `Sync now is cut off at ${width} px: ${JSON.stringify(layout)}`);
      assert.ok(button.right <= layout.boxRight, `Sync now is cut off at ${width} px: ${JSON.stringify(layout)}`);
    }
  }
  // Back to Playwright's default viewport for the rest of the walk.
  await page.setViewportSize({ width: 1280, height: 720 });
}

/**
 * Adds a custom application with extraction type upload through the form, uploads an
 * entities file with a bad row and reads the error table, then uploads the corrected
 * file and reads the summary.
 */
async function walkUpload(page) {
  await page.goto(`${musterBase}/integrations/new`);
  // Choosing the application reloads the form (htmx): upload is the default, and the
  // AWS credentials are gone.
  await page.getByLabel('Application', { exact: true }).selectOption('custom');
  await page.locator('#extraction_type option[value="api"]').waitFor({ state: 'attached' });
  assert.equal(await page.locator('#extraction_type').inputValue(), 'upload');
  assert.equal(await page.getByText('Assume an IAM role').count(), 0, 'no AWS credentials for an upload');

  await page.getByLabel('Name').fill('HR system');
  await page.getByLabel('Primary owner').fill('owner@example.com');
  await page.getByRole('button', { name: 'Add integration' }).click();
  await page.waitForURL(/\/integrations\/custom\/[0-9A-Z]{26}$/);
  await page.getByRole('heading', { name: 'Upload data' }).waitFor();

  const header = 'Name,Entity Type,Source System,Source ID,Source Type\n';
  const good = 'Ada Lovelace,identity,hr,u-1,user\n';
  const upload = async (content) => {
    await page.getByLabel('Format').selectOption('entities');
    await page.locator('#upload-file').setInputFiles({
      name: 'entities.csv', mimeType: 'text/csv', buffer: Buffer.from(content),
    });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
  };

  // Line 3 has no name: the file is rejected and the table says where.
  await upload(`${header}${good},identity,hr,u-2,user\n`);
  const errors = page.locator('#upload-errors');
  await errors.waitFor();
  const cells = await errors.locator('tbody tr').first().locator('td').allInnerTexts();
  assert.equal(cells[0], '3', `the error names line 3: ${cells}`);
  assert.equal(cells[1], 'Name', `the error names the column: ${cells}`);
  await page.getByText('nothing was changed').waitFor();

  // The corrected file is applied and summarised.
  await upload(`${header}${good}Grace Hopper,identity,hr,u-2,user\n`);
  await page.locator('#upload-summary').waitFor();
  assert.match(await page.locator('#upload-result > p').first().innerText(), /2 rows applied/);
  assert.equal(await page.locator('#upload-errors').count(), 0, 'no error table after a good upload');

  // The integration's inventory shows the new entities after a reload.
  await page.reload();
  await page.locator('#identity-table').getByRole('link', { name: 'Grace Hopper', exact: true }).waitFor();
}
