#!/usr/bin/env bash
# Builds the demo pages into web/dist/ (served by huddle at /, server.demo_dir): npm ci when the
# packages are missing or older than package-lock.json, then esbuild bundles each page's script
# with everything it imports (no CDN at run time). Safe to run twice; only the npm registry is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stamp="node_modules/.package-lock.json"
if [[ ! -d node_modules || ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

# Built beside dist/ and swapped in, so that a running server never serves half a build.
out="dist.new"
rm -rf "$out"
mkdir -p "$out/assets"
./node_modules/.bin/esbuild src/editor.js src/chat.js src/dashboard.js \
    --bundle --format=esm --target=es2020 --minify --sourcemap --log-level=warning \
    --outdir="$out/assets"
cp src/*.html "$out/"
cp src/style.css src/favicon.svg "$out/assets/"
rm -rf dist.old
[[ -d dist ]] && mv dist dist.old
mv "$out" dist
rm -rf dist.old
echo "web/build.sh: demo pages built in $(pwd)/dist"
