// The index and the live dashboard (web/src/dashboard.js): served by the real server, the
// dashboard's charts follow /metrics and its table lists the rooms from /stats.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, unique, withArtifacts } from '../lib/browser.mjs';
import { Huddle } from '../lib/huddle.mjs';

describe('index and dashboard pages', () => {
    let huddle;
    let browser;
    let pages = [];

    before(async () => {
        huddle = await new Huddle().start();
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
        await huddle?.stop();
        huddle?.cleanup();
    });

    test('the index links to the three demos, and each link loads without script errors', async () => {
        await withArtifacts('index', () => pages, huddle, async () => {
            const index = await openPage(browser, `${huddle.url}/`, 'index');
            pages = [index];
            assert.equal(await index.title(), 'Huddle demos');
            for (const [link, title] of [['Collaborative editor', 'Huddle editor'], ['Chat room', 'Huddle chat'], ['Live dashboard', 'Huddle dashboard']]) {
                await index.getByRole('link', { name: link }).click();
                await index.waitForLoadState('load');
                assert.equal(await index.title(), title);
                await index.locator('#status[data-state="connected"]').waitFor({ timeout: 15000 });
                await index.goBack();
            }
            assert.deepEqual(index.problems, []);
        });
    });

    test('the dashboard charts connections and messages per second, and lists the rooms', async () => {
        await withArtifacts('dashboard', () => pages, huddle, async () => {
            const room = unique('busy');
            const dashboard = await openPage(browser, `${huddle.url}/dashboard.html`, 'dashboard');
            pages = [dashboard];
            const chatters = [];
            for (const user of ['dora', 'eve']) {
                const page = await openPage(browser, `${huddle.url}/chat.html?room=${room}&user=${user}`, user);
                chatters.push(page);
                pages.push(page);
                await page.locator('#status[data-state="connected"]').waitFor({ timeout: 15000 });
            }
            // Both chat pages are connections (and a history read each, closed again).
            await dashboard.waitForFunction(() => window.huddleDashboard?.connections >= 2, null, { timeout: 10000 });
            await dashboard.locator('#rooms tr', { hasText: `chat:${room}` }).waitFor({ timeout: 10000 });
            assert.match(await dashboard.locator('#rooms tr', { hasText: `chat:${room}` }).innerText(), /\b2\b/);

            // Messages make the "out" rate rise above zero.
            for (let i = 0; i < 5; i++) {
                await chatters[0].locator('#message-input').fill(`burst ${i}`);
                await chatters[0].locator('#send-form button').click();
            }
            await dashboard.waitForFunction(() => window.huddleDashboard.outRate > 0, null, { timeout: 10000 });
            const shown = await dashboard.locator('.chart[data-series="connections"] .value').textContent();
            assert.ok(Number(shown) >= 2, `connections shown: ${shown}`);
            const samples = await dashboard.evaluate(() => window.huddleDashboard.count);
            await dashboard.waitForFunction((n) => window.huddleDashboard.count >= n + 2, samples, { timeout: 10000 });
            assert.deepEqual(dashboard.problems, []);
        });
    });
});
