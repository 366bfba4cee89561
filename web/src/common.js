// What every demo page needs: who the visitor is, a token for them, and the server's addresses.
// The pages are served by huddle itself, so the server is the page's own origin.

const USER_KEY = 'huddle-demo-user';

export const httpBase = window.location.origin;
export const wsBase = httpBase.replace(/^http/, 'ws');

export const params = new URLSearchParams(window.location.search);

// ?user=NAME wins, then the name this browser used before, then a new guest name.
export function userName() {
    const fromUrl = params.get('user');
    if (fromUrl) {
        localStorage.setItem(USER_KEY, fromUrl);
        return fromUrl;
    }
    let name = localStorage.getItem(USER_KEY);
    if (!name) {
        name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
        localStorage.setItem(USER_KEY, name);
    }
    return name;
}

export class TokenError extends Error {}

// ?token=JWT (e.g. the development token huddle prints) wins; otherwise the server's
// /demo/token endpoint, which exists only when server.demo_tokens is on.
export async function fetchToken(user) {
    const given = params.get('token');
    if (given) return given;
    let response;
    try {
        response = await fetch(`${httpBase}/demo/token?user=${encodeURIComponent(user)}`, { cache: 'no-store' });
    } catch (error) {
        throw new TokenError(`cannot reach the server for a token: ${error.message}`);
    }
    if (response.status === 404) {
        throw new TokenError('this server hands out no demo tokens: start it with ' +
            '--set server.demo_tokens=true (development secret only), or add ?token=JWT to the address');
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body?.token) {
        throw new TokenError(body?.error?.message ?? `token request failed with HTTP ${response.status}`);
    }
    return body.token;
}

// A stable colour per name, so a person has the same colour on every screen.
export function colorFor(name) {
    let hash = 0;
    for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    const hue = hash % 360;
    return { color: `hsl(${hue} 70% 45%)`, light: `hsl(${hue} 70% 45% / 0.25)` };
}

export function showProblem(text) {
    const box = document.getElementById('problem');
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
}

// Renames the visitor: kept for this browser, then the page starts again under the new name.
export function bindUserForm() {
    const form = document.getElementById('user-form');
    if (!form) return;
    const input = form.querySelector('input');
    input.value = userName();
    form.addEventListener('submit', (event) => {
        event.preventDefault();
        const name = input.value.trim();
        if (!name) return;
        localStorage.setItem(USER_KEY, name);
        const url = new URL(window.location.href);
        url.searchParams.delete('user');
        window.location.href = url.toString();
    });
}
