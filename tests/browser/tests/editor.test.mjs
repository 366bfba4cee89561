// The collaborative editor page (web/src/editor.js) in two browsers: the stock y-websocket
// provider against /yjs/<document> of the real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, unique, withArtifacts } from '../lib/browser.mjs';
import { Huddle } from '../lib/huddle.mjs';

const text = (page) => page.evaluate(() => window.huddleEditor?.ytext.toString() ?? null);
// The text the editor shows: its lines without the other people's cursor widgets.
const shown = (page) => page.evaluate(() => {
    const copy = document.querySelector('.cm-content').cloneNode(true);
    for (const widget of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) widget.remove();
    return [...copy.querySelectorAll('.cm-line')].map((line) => line.textContent.replace(/\u2060/g, '')).join('\n');
});

async function connected(page) {
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 15000 });
}

describe('editor page', () => {
    let huddle;
    let browser;
    let pages = [];
    const doc = unique('doc');
    const editorUrl = (user) => `${huddle.url}/editor.html?doc=${doc}&user=${user}`;

    before(async () => {
        huddle = await new Huddle().start();
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
        await huddle?.stop();
        huddle?.cleanup();
    });

    test('two pages edit the same document and converge', async () => {
        await withArtifacts('editor-converge', () => pages, huddle, async () => {
            const alice = await openPage(browser, editorUrl('alice'), 'alice');
            const bob = await openPage(browser, editorUrl('bob'), 'bob');
            pages = [alice, bob];
            await connected(alice);
            await connected(bob);
            await alice.locator('.cm-content').click();
            await alice.keyboard.type('Alice was here. ');
            await bob.locator('.cm-content').click();
            await bob.keyboard.press('End');
            await bob.keyboard.type('Bob too.');
            // Typed at the same time on both sides; then both must hold the same text.
            await Promise.all([alice.keyboard.type(' More from Alice.'), bob.keyboard.type(' And Bob.')]);
            await alice.waitForFunction(() => {
                const t = window.huddleEditor.ytext.toString();
                return t.includes('Bob too.') && t.includes('And Bob.');
            }, null, { timeout: 10000 });
            await bob.waitForFunction(() => window.huddleEditor.ytext.toString().includes('More from Alice.'), null, { timeout: 10000 });
            const deadline = Date.now() + 5000;
            while ((await text(alice)) !== (await text(bob)) && Date.now() < deadline) await alice.waitForTimeout(50);
            const final = await text(alice);
            assert.equal(await text(bob), final);
            for (const piece of ['Alice was here.', 'Bob too.', 'More from Alice.', 'And Bob.']) assert.ok(final.includes(piece), `${piece} in ${final}`);
            // What the people see is the shared text.
            assert.equal(await shown(alice), final);
            assert.equal(await shown(bob), final);
        });
    });

    test("the other person's cursor is visible, with their name", async () => {
        await withArtifacts('editor-cursor', () => pages, huddle, async () => {
            const [alice, bob] = pages;
            await alice.locator('.cm-content').click();
            await alice.keyboard.press('Home');
            const caret = bob.locator('.cm-ySelectionCaret');
            await caret.first().waitFor({ state: 'attached', timeout: 10000 });
            assert.equal((await bob.locator('.cm-ySelectionInfo').first().textContent()).trim(), 'alice');
            // Both are listed as present.
            await bob.locator('#peers', { hasText: 'alice' }).waitFor({ timeout: 5000 });
            await alice.locator('#peers', { hasText: 'bob' }).waitFor({ timeout: 5000 });
        });
    });

    test('a reloaded page keeps the content', async () => {
        await withArtifacts('editor-reload', () => pages, huddle, async () => {
            const [alice] = pages;
            const before = await text(alice);
            await alice.reload();
            await connected(alice);
            await alice.waitForFunction((t) => window.huddleEditor?.ytext.toString() === t, before, { timeout: 10000 });
            assert.equal(await shown(alice), before);
            // A third person arriving later gets it too.
            const carol = await openPage(browser, editorUrl('carol'), 'carol');
            pages.push(carol);
            await connected(carol);
            await carol.waitForFunction((t) => window.huddleEditor?.ytext.toString() === t, before, { timeout: 10000 });
        });
    });
});
