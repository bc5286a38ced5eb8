#!/usr/bin/env bash
# Put the browser assets a Solara page loads (Vuetify app, RequireJS, Font Awesome, Vega for
# Altair charts, the draggable grid) into the Solara server's asset cache in .venv.
#
# Solara's server fetches them from a public CDN on first use and caches them; a machine
# without that network (this project's CI, an offline classroom) gets a blank page instead.
# They are npm packages, so `npm pack` brings each from the npm registry; each is unpacked
# under the exact name@version path the page asks for. Idempotent; needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  "@widgetti/solara-vuetify-app@10.1.1"
  "@widgetti/vue-grid-layout@2.3.13-alpha.2"
  "font-awesome@4.5.0"
  "requirejs@2.3.6"
  "vega@5"
  "vega-lite@5"
  "vega-embed@6"
)

if ! command -v npm >/dev/null 2>&1; then
  echo "solara_assets: npm not found; install it (apt-get install -y npm) to serve the app offline" >&2
  exit 1
fi
cache=$(.venv/bin/python -c 'from solara.server import settings; print(settings.assets.proxy_cache_dir)')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in "${PACKAGES[@]}"; do
  dest="$cache/$spec"
  [ -f "$dest/package.json" ] && continue
  tarball=$(cd "$tmp" && npm pack --silent "$spec" | tail -1)
  mkdir -p "$dest"
  tar -xzf "$tmp/$tarball" -C "$dest" --strip-components=1
  echo "solara_assets: $spec -> $dest"
done
