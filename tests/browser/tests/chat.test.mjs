// The chat page (web/src/chat.js, on clients/js/huddle-client.js) in two browsers against the real
// server: messages, presence, typing, history after a reload, and reconnection after the server
// is killed and started again on the same port and data directory.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, unique, withArtifacts } from '../lib/browser.mjs';
import { Huddle } from '../lib/huddle.mjs';

async function connected(page, timeout = 15000) {
    await page.locator('#status[data-state="connected"]').waitFor({ timeout });
}

async function send(page, text) {
    await page.locator('#message-input').fill(text);
    await page.locator('#send-form button').click();
    await page.locator('#messages .message .text', { hasText: text }).waitFor({ timeout: 5000 });
}

const messageTexts = (page) => page.locator('#messages .message .text').allTextContents();

describe('chat page', () => {
    let huddle;
    let browser;
    let pages = [];
    const room = unique('room');
    const chatUrl = (user) => `${huddle.url}/chat.html?room=${room}&user=${user}`;

    before(async () => {
        huddle = await new Huddle().start();
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
        await huddle?.stop();
        huddle?.cleanup();
    });

    test('presence shows both people on both pages', async () => {
        await withArtifacts('chat-presence', () => pages, huddle, async () => {
            const alice = await openPage(browser, chatUrl('alice'), 'alice');
            pages = [alice];
            await connected(alice);
            const bob = await openPage(browser, chatUrl('bob'), 'bob');
            pages.push(bob);
            await connected(bob);
            for (const page of pages) {
                await page.locator('#online [data-user="alice"]').waitFor({ timeout: 5000 });
                await page.locator('#online [data-user="bob"]').waitFor({ timeout: 5000 });
            }
        });
    });

    test('typing in one page shows in the other, and stops', async () => {
        await withArtifacts('chat-typing', () => pages, huddle, async () => {
            const [alice, bob] = pages;
            await alice.locator('#message-input').pressSequentially('hel');
            await bob.locator('#typing', { hasText: 'alice is typing' }).waitFor({ timeout: 5000 });
            assert.equal((await alice.locator('#typing').textContent()).trim(), '');  // not yourself
            await alice.locator('#message-input').fill('');
            await alice.locator('#message-input').dispatchEvent('input');
            await bob.waitForFunction(() => document.getElementById('typing').textContent === '', null, { timeout: 5000 });
        });
    });

    test('a message sent in one page appears in the other', async () => {
        await withArtifacts('chat-message', () => pages, huddle, async () => {
            const [alice, bob] = pages;
            await send(alice, 'Hello Bob, from Alice');
            await bob.locator('#messages .message', { hasText: 'Hello Bob, from Alice' }).waitFor({ timeout: 5000 });
            const line = bob.locator('#messages .message', { hasText: 'Hello Bob, from Alice' });
            assert.equal((await line.locator('.who').textContent()).trim(), 'alice');
            await send(bob, 'Hi Alice');
            await alice.locator('#messages .message .text', { hasText: 'Hi Alice' }).waitFor({ timeout: 5000 });
        });
    });

    test('a reloaded page shows the history, once and in order', async () => {
        await withArtifacts('chat-history', () => pages, huddle, async () => {
            const [, bob] = pages;
            await bob.reload();
            await connected(bob);
            await bob.locator('#messages .message .text', { hasText: 'Hi Alice' }).waitFor({ timeout: 5000 });
            assert.deepEqual(await messageTexts(bob), ['Hello Bob, from Alice', 'Hi Alice']);
            await bob.locator('#online [data-user="alice"]').waitFor({ timeout: 5000 });
        });
    });

    test('after the server is killed and started again, the pages reconnect by themselves', async () => {
        await withArtifacts('chat-restart', () => pages, huddle, async () => {
            const [alice, bob] = pages;
            const editorUrl = `${huddle.url}/editor.html?doc=${room}&user=alice`;
            const editor = await openPage(browser, editorUrl, 'alice-editor');
            pages.push(editor);
            await editor.locator('#status[data-state="connected"]').waitFor({ timeout: 15000 });
            await editor.locator('.cm-content').click();
            await editor.keyboard.type('before the restart');
            await editor.waitForFunction(() => window.huddleEditor.ytext.toString() === 'before the restart');
            // Give the y-websocket update time to reach the server (the chat checks its own answer).
            await editor.waitForTimeout(500);

            await huddle.kill();
            for (const page of [alice, bob, editor]) {
                await page.waitForFunction(() => document.getElementById('status').dataset.state !== 'connected', null, { timeout: 10000 });
            }
            await huddle.start();
            for (const page of [alice, bob, editor]) await connected(page, 30000);

            await send(bob, 'Back after the restart');
            await alice.locator('#messages .message .text', { hasText: 'Back after the restart' }).waitFor({ timeout: 10000 });
            await send(alice, 'Welcome back');
            await bob.locator('#messages .message .text', { hasText: 'Welcome back' }).waitFor({ timeout: 10000 });
            for (const page of [alice, bob]) {
                await page.locator('#online [data-user="alice"]').waitFor({ timeout: 5000 });
                await page.locator('#online [data-user="bob"]').waitFor({ timeout: 5000 });
            }
            // The document survived too, and edits flow again.
            await editor.keyboard.type(', and after');
            const second = await openPage(browser, `${huddle.url}/editor.html?doc=${room}&user=bob`, 'bob-editor');
            pages.push(second);
            await second.waitForFunction(() => window.huddleEditor?.ytext.toString() === 'before the restart, and after', null, { timeout: 10000 });

            // Nothing was lost or doubled across the restart.
            await bob.reload();
            await connected(bob);
            await bob.locator('#messages .message .text', { hasText: 'Welcome back' }).waitFor({ timeout: 5000 });
            assert.deepEqual(await messageTexts(bob), ['Hello Bob, from Alice', 'Hi Alice', 'Back after the restart', 'Welcome back']);
        });
    });
});
