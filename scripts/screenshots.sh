#!/usr/bin/env bash
# Take the README's screenshots (docs/trigger.png, docs/console.png, docs/report.png) with playwright-core in
# Debian's Chromium: runs the console browser test on a larger, slower fleet with
# AZ_EVAC_SCREENSHOTS=1 (the console is captured mid-evacuation, the report at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/chromium.sh >/dev/null
mkdir -p docs
AZ_EVAC_SCREENSHOTS=1 npx vitest run test/integration/console-browser.test.ts
ls -l docs/trigger.png docs/console.png docs/report.png
