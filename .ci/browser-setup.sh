#!/usr/bin/env bash
# Set up what the browser tests need on a fresh Debian machine:
#   1. Debian's Chromium (/usr/bin/chromium) and npm, through apt, when missing;
#   2. solara's front-end asset cache, filled from the npm registry by `python -m innatura.viz.assets`
#      (exact package versions read from the installed solara), when solara is installed.
# Idempotent: a second run installs and fetches nothing.
# The cache goes to $SOLARA_ASSETS_PROXY_CACHE_DIR, or ~/.cache/innatura/solara-cdn.
# Python used for step 2: $PYTHON, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "browser-setup: apt-get install ${need[*]}"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null || { echo "browser-setup: /usr/bin/chromium does not run" >&2; exit 1; }

python=${PYTHON:-python3}
if "$python" -c "import solara, innatura.viz.assets" >/dev/null 2>&1; then
  "$python" -m innatura.viz.assets
else
  echo "browser-setup: solara or innatura not installed for $python yet; the asset cache is" \
       "filled by \`$python -m innatura.viz.assets\` after the install (the browser tests do it too)."
fi
