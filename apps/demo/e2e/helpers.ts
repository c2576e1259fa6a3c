import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { chromiumArgs, chromiumPath } from '../../../chromium.shared';
import {
  LOCAL_DEV_SECRET,
  type LocalWorker,
  mintLocalToken,
  startLocalWorker,
} from '../../worker/scripts/local-dev.mjs';

/** The browser globals that page functions here use (Node-side code has no DOM typings). */
declare const navigator: {
  readonly serviceWorker: { readonly ready: Promise<unknown>; readonly controller: object | null };
};

/**
 * Where the run saves pictures of the main screens: `test-results/demo-screenshots/` at the
 * root, so that a test run leaves the working tree clean; with
 * `EVENTKV_UPDATE_SCREENSHOTS=1` (`pnpm --filter @eventkv/demo screenshots`), the
 * `screenshots/` folder the READMEs show.
 */
export const SCREENSHOTS = process.env.EVENTKV_UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '..', 'screenshots')
  : join(import.meta.dirname, '..', '..', '..', 'test-results', 'demo-screenshots');

/** The demo's address with a fragment, e.g. `url('#/audit')`. */
export const url = (fragment = '#/'): string => new URL(fragment, inject('demoUrl')).href;

/** The hand-over address that `pnpm start` prints: endpoint and token in the fragment. */
export const connectUrl = (endpoint: string, token: string): string =>
  url(`#connect=${encodeURIComponent(endpoint)}&token=${encodeURIComponent(token)}`);

/** A Worker the demo can sync with: its base URL (no trailing slash) and a token for it. */
export interface WorkerAccess {
  readonly url: string;
  readonly token: string;
}

/** The Worker the global setup started, shared by every test file (database `demo`). */
export const sharedWorker = (): WorkerAccess => ({
  url: inject('workerUrl'),
  token: inject('token'),
});

/** A loopback port that nothing listens on now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/**
 * Starts a Worker of the test file's own in local workerd, as the global setup does (the
 * demo's origin allowed, the deployed routing: an object per stream), on `port` and with its
 * storage in `persist` when given: one started again on both finds its data. The token's
 * user is `alice`, the demo's default.
 */
export const startWorker = async (
  options: { port?: number; persist?: string } = {},
): Promise<WorkerAccess & { readonly worker: LocalWorker }> => {
  const worker = await startLocalWorker({
    vars: {
      AUTH_SECRET: LOCAL_DEV_SECRET,
      CORS_ORIGINS: new URL(inject('demoUrl')).origin,
    },
    ...options,
  });
  const token = await mintLocalToken('demo', { secret: LOCAL_DEV_SECRET, subject: 'alice' });
  return { worker, url: worker.url.origin, token };
};

/**
 * A Worker for the test file alone, started before its tests and stopped after them: its
 * database holds only what the file's tests wrote, so lists and queries can be checked
 * whole.
 */
export const useOwnWorker = (): WorkerAccess => {
  let started: (WorkerAccess & { readonly worker: LocalWorker }) | undefined;
  beforeAll(async () => {
    started = await startWorker();
  });
  afterAll(async () => {
    await started?.worker.dispose();
  });
  const get = () => {
    if (!started) throw new Error('the Worker is not running');
    return started;
  };
  return {
    get url() {
      return get().url;
    },
    get token() {
      return get().token;
    },
  };
};

/**
 * One Chromium for the test file; each test gets fresh contexts (empty IndexedDB, no
 * service worker, no localStorage), closed after it. Errors thrown in a page fail the test.
 */
export const useChromium = () => {
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let errors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });
  afterEach(async () => {
    const open = contexts;
    contexts = [];
    await Promise.all(open.map((context) => context.close()));
    const thrown = errors;
    errors = [];
    expect(thrown, 'errors thrown in the page').toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const context = async (options: BrowserContextOptions = {}): Promise<BrowserContext> => {
    if (!browser) throw new Error('Chromium is not running');
    const created = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: 1200, height: 900 },
      ...options,
    });
    contexts.push(created);
    created.on('weberror', (error) => errors.push(error.error().message));
    return created;
  };

  /** A page of a context (a fresh one unless given), at `fragment`, with the app rendered. */
  const open = async (
    fragment = '#/',
    inContext?: BrowserContext,
  ): Promise<{ page: Page; context: BrowserContext }> => {
    const owner = inContext ?? (await context());
    const page = await owner.newPage();
    await page.goto(fragment.startsWith('http') ? fragment : url(fragment));
    await page.getByRole('link', { name: 'Accounts', exact: true }).waitFor();
    return { page, context: owner };
  };

  /**
   * A device that syncs with a Worker (the shared one unless given): a page of a fresh
   * profile (or of `inContext`) that opened the connect link `pnpm start` prints.
   */
  const connect = (worker: WorkerAccess = sharedWorker(), inContext?: BrowserContext) =>
    open(connectUrl(worker.url, worker.token), inContext);

  return { context, open, connect };
};

/** Saves a PNG of the page under `SCREENSHOTS`. */
export const screenshot = async (
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), animations: 'disabled', ...options });
};

/** A locator's text, trimmed (waits for the element). */
export const text = async (locator: Locator): Promise<string> =>
  ((await locator.textContent()) ?? '').trim();

/** The sync bar's title: "Synced", "Pending · 1 change", "Offline · 1 change kept here"... */
export const syncTitle = (page: Page) => text(page.getByTestId('sync-title'));

/** Waits until the sync bar says everything is on the Worker. */
export const synced = (page: Page) => expect.poll(() => syncTitle(page)).toBe('Synced');

/** The row of the Sync page's details named `term` ("This tab", "Connection"...). */
export const syncDetail = (page: Page, term: string) =>
  text(
    page
      .locator('dl.details > div')
      .filter({ has: page.locator('dt').getByText(term, { exact: true }) })
      .locator('dd'),
  );

export const balance = (page: Page) => text(page.getByTestId('balance'));
export const status = (page: Page) => text(page.getByTestId('status'));
export const loadInfo = (page: Page) => text(page.getByTestId('load-info'));
export const version = async (page: Page): Promise<number> =>
  Number(await text(page.getByTestId('version')));

/** The account's id, from the address (`#/account/<id>`). */
export const accountIdOf = (page: Page): string => {
  const match = /#\/account\/([^/]+)$/.exec(page.url());
  if (!match) throw new Error(`not on an account's page: ${page.url()}`);
  return decodeURIComponent(match[1]!);
};

/** Opens an account from the accounts view and waits for its page; returns its id. */
export const openAccount = async (page: Page, owner: string, currency = 'EUR') => {
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.getByLabel('Owner').fill(owner);
  await page.getByLabel('Currency').selectOption(currency);
  await page.getByRole('button', { name: 'Open account' }).click();
  await page.waitForURL(/#\/account\//);
  await expect.poll(() => status(page)).toBe('open');
  await expect.poll(() => version(page)).toBe(1);
  return accountIdOf(page);
};

/** Goes to an account's page by its address and waits until it shows the account. */
export const goToAccount = async (page: Page, id: string) => {
  await page.goto(url(`#/account/${encodeURIComponent(id)}`));
  await expect.poll(() => version(page)).toBeGreaterThan(0);
};

export const amountInput = (page: Page) => page.getByLabel(/Amount/);

/** Fills the amount and presses a command's button; waits for the version to move by one. */
export const transact = async (
  page: Page,
  kind: 'Deposit' | 'Withdraw',
  amount: string,
): Promise<number> => {
  const before = await version(page);
  await amountInput(page).fill(amount);
  await page.getByRole('button', { name: kind, exact: true }).click();
  await expect.poll(() => version(page)).toBe(before + 1);
  return before + 1;
};

export const deposit = (page: Page, amount: string) => transact(page, 'Deposit', amount);
export const withdraw = (page: Page, amount: string) => transact(page, 'Withdraw', amount);

export interface TimelineRow {
  readonly version: number;
  readonly type: string;
  readonly details: string;
  readonly time: string;
  readonly user: string;
  readonly correlation: string;
  /** Marked "not synced": made on this device, not on the Worker yet. */
  readonly pending: boolean;
}

export const timeline = (page: Page) =>
  page.getByRole('region', { name: 'Timeline', exact: true }).getByRole('table');

/** The timeline's rows, newest first. */
export const timelineRows = async (page: Page): Promise<TimelineRow[]> => {
  const cells = await timeline(page)
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => ({
        cells: [...row.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
        pending: row.querySelector('.badge.pending') !== null,
      })),
    );
  return cells.map(({ cells: [v, type, details, time, user, correlation], pending }) => ({
    version: Number.parseInt(v ?? '', 10),
    type: type ?? '',
    details: details ?? '',
    time: time ?? '',
    user: user ?? '',
    correlation: correlation ?? '',
    pending,
  }));
};

/** The versions and event types shown in the timeline, newest first. */
export const timelineSummary = async (page: Page): Promise<string[]> =>
  (await timelineRows(page)).map((row) => `${row.version} ${row.type}`);

/** A `role=alert` paragraph or box whose text matches. */
export const alert = (page: Page, matching: string | RegExp) =>
  page.getByRole('alert').filter({ hasText: matching });

/** Sets who acts ("Acting as"); recorded in the events' metadata. */
export const actAs = (page: Page, user: string) => page.getByLabel('Acting as').fill(user);

/**
 * Waits until a service worker controls the page, so it can reload offline: the worker
 * activates once its precache is complete and then claims the page; a page loaded before
 * that is reloaded once.
 */
export const waitForServiceWorker = async (page: Page): Promise<void> => {
  const controlled = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
  if (!controlled) await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
};
