// Tokens for the tests: good ones (HS256/384/512, RS256, ES256) and every kind of bad one.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as jose from 'jose';

// 64 bytes, long enough for HS512.
export const SECRET = 'huddle-integration-test-secret-0123456789-abcdefghijklmnopqrstuvw';
export const API_KEY = 'huddle-integration-test-api-key';

const enc = new TextEncoder();
const nowSec = () => Math.floor(Date.now() / 1000);
const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// A signed JWT. `claims` are merged over {sub, iat, exp}; pass exp: null to leave exp out.
export async function mint({ sub = 'alice', alg = 'HS256', secret = SECRET, privateKey = null, claims = {}, header = {}, expiresInSec = 3600 } = {}) {
    const payload = { iat: nowSec(), ...(sub === null ? {} : { sub }), ...claims };
    if (!('exp' in claims) && expiresInSec !== null) payload.exp = nowSec() + expiresInSec;
    for (const k of Object.keys(payload)) if (payload[k] === null) delete payload[k];
    const jwt = new jose.SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header });
    let key;
    if (alg.startsWith('HS')) key = typeof secret === 'string' ? enc.encode(secret) : secret;
    else key = privateKey ?? (await keys())[alg.startsWith('RS') ? 'rsa' : 'ec'].privateKey;
    return jwt.sign(key);
}

export const token = (sub = 'alice', extra = {}) => mint({ sub, ...extra });

// Hand-built tokens that jose would refuse to make.
export function hmacToken(payload, secretBytes, alg = 'HS256') {
    const head = b64url({ alg, typ: 'JWT' });
    const body = b64url(payload);
    const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
    const sig = crypto.createHmac(hash, secretBytes).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
}

export function algNoneToken(sub = 'alice') {
    const payload = { sub, iat: nowSec(), exp: nowSec() + 3600 };
    return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

let keyCache = null;
// RSA and EC key pairs generated once per test process, public keys written as SPKI PEM files.
export async function keys() {
    if (keyCache) return keyCache;
    const rsa = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const ec = await jose.generateKeyPair('ES256', { extractable: true });
    const rsaPem = await jose.exportSPKI(rsa.publicKey);
    const ecPem = await jose.exportSPKI(ec.publicKey);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-keys-'));
    process.on('exit', () => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ } });
    const rsaFile = path.join(dir, 'rsa.pub.pem');
    const ecFile = path.join(dir, 'ec.pub.pem');
    fs.writeFileSync(rsaFile, rsaPem);
    fs.writeFileSync(ecFile, ecPem);
    // A second pair, never given to the server: tokens signed with it are wrongly signed.
    const otherRsa = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    keyCache = {
        rsa, ec, rsaPem, ecPem, rsaFile, ecFile, otherRsa,
        env: {
            HUDDLE_AUTH_RSA_PUBLIC_KEY_FILE: rsaFile,
            HUDDLE_AUTH_EC_PUBLIC_KEY_FILE: ecFile,
            HUDDLE_AUTH_ALGORITHMS: 'HS256,HS384,HS512,RS256,ES256',
        },
    };
    return keyCache;
}

// The catalogue of tokens the server must refuse, by name. `iss`/`aud` are what the server expects.
export async function badTokens({ iss = 'https://issuer.test', aud = 'huddle-test' } = {}) {
    const k = await keys();
    const good = { iss, aud };
    return {
        malformed: 'abc',
        'three garbage parts': 'aaa.bbb.ccc',
        expired: await mint({ claims: { ...good, exp: nowSec() - 3600, iat: nowSec() - 7200 } }),
        'nbf in the future': await mint({ claims: { ...good, nbf: nowSec() + 3600 } }),
        'wrong secret': await mint({ secret: 'not-the-secret-not-the-secret-not-the-secret-000', claims: good }),
        'tampered payload': await (async () => {
            const t = await mint({ claims: good });
            const [h, , s] = t.split('.');
            return `${h}.${b64url({ sub: 'mallory', iss, aud, exp: nowSec() + 3600 })}.${s}`;
        })(),
        'alg none': algNoneToken(),
        'HS256 signed with the RSA public key (alg confusion)': hmacToken(
            { sub: 'alice', iss, aud, iat: nowSec(), exp: nowSec() + 3600 }, Buffer.from(k.rsaPem)),
        'RS256 signed with an unknown key': await mint({ alg: 'RS256', privateKey: k.otherRsa.privateKey, claims: good }),
        'wrong iss': await mint({ claims: { ...good, iss: 'https://evil.test' } }),
        'wrong aud': await mint({ claims: { ...good, aud: 'someone-else' } }),
    };
}
