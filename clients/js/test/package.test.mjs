// The package as an app gets it: `npm pack` holds the module and its types (and no tests), the
// tarball installs with no dependency and imports by name, and the types compile (tsc --noEmit).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

describe('package', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-client-pack-'));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    let tarball;

    test('npm pack: the tarball lists the module, its types, README and package.json only', () => {
        const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: pkg }));
        tarball = path.join(tmp, out[0].filename);
        const listed = run('tar', ['-tzf', tarball]).trim().split('\n').sort();
        assert.deepEqual(listed, ['package/README.md', 'package/huddle-client.d.ts', 'package/huddle-client.js', 'package/package.json']);
        const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']));
        assert.equal(manifest.name, '@huddle/client');
        assert.equal(manifest.type, 'module');
        assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
    });

    test('the tarball installs offline and imports by name', () => {
        assert.ok(tarball, 'packed by the previous test');
        const app = path.join(tmp, 'app');
        fs.mkdirSync(app);
        fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
        run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], { cwd: app });
        const probe = "import { HuddleClient, HuddleError, Room } from '@huddle/client'; console.log([typeof HuddleClient, typeof Room, new HuddleError('X').code].join(' '));";
        assert.equal(run(process.execPath, ['--input-type=module', '-e', probe], { cwd: app }).trim(), 'function function X');
        assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules')).sort(), ['.package-lock.json', '@huddle']);
    });

    test('types: tsc --noEmit on a usage file that imports the package by name', () => {
        const tsc = path.join(pkg, 'node_modules', 'typescript', 'bin', 'tsc');
        try {
            run(process.execPath, [tsc, '-p', path.join(pkg, 'test', 'types', 'tsconfig.json')], { cwd: pkg });
        } catch (e) {
            assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
        }
    });
});
