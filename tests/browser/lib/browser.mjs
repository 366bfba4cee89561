// Debian's chromium (never a downloaded browser) driven by playwright-core, one context per person
// (own localStorage), with screenshots and the server's log in build/browser-artifacts/ when a
// test fails.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { ARTIFACTS_DIR } from './huddle.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export async function launchBrowser() {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (./scripts/install-deps.sh installs it)`);
    // Root in a container: chromium's sandbox cannot start there.
    return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

// A page of its own context, with its console errors collected for the failure report.
export async function openPage(browser, url, label) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    page.label = label;
    page.problems = [];
    page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') page.problems.push(`console: ${message.text()}`); });
    await page.goto(url);
    return page;
}

function safe(name) { return name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80); }

// Runs `fn`; when it fails, saves a screenshot of every page and the server's output, and adds
// the pages' console errors to the error.
export async function withArtifacts(name, pages, huddle, fn) {
    try {
        await fn();
    } catch (error) {
        fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
        const saved = [];
        for (const page of pages()) {
            const file = path.join(ARTIFACTS_DIR, `${safe(name)}-${safe(page.label ?? 'page')}.png`);
            try {
                await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
                saved.push(file);
            } catch { /* page gone */ }
            if (page.problems?.length) saved.push(`${page.label}: ${page.problems.slice(-10).join(' | ')}`);
        }
        const log = path.join(ARTIFACTS_DIR, `${safe(name)}-server.log`);
        fs.writeFileSync(log, huddle.logs.join('\n'));
        saved.push(log);
        error.message += `\nartifacts:\n  ${saved.join('\n  ')}`;
        throw error;
    }
}

export function unique(prefix) {
    return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
}
