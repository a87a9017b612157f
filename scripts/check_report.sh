#!/usr/bin/env bash
# Renders a CoOpt report.html in headless Chromium (Debian package `chromium`) and checks it:
# the page loads from disk, every <img> in the DOM is a decoded image (naturalWidth > 0 after
# load, read back from the rendered DOM), no console error or failed request, and a screenshot
# of the whole page is written.
#
#   scripts/check_report.sh runs/demo/report.html [SCREENSHOT.png]
#
# Exit 0 when the report renders cleanly, 1 when it does not, 2 for bad arguments.
set -euo pipefail
report=${1:?usage: check_report.sh REPORT.html [SCREENSHOT.png]}
shot=${2:-${report%.html}.png}
[ -f "$report" ] || { echo "check_report: no such file: $report" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check_report: chromium is not installed (apt-get install chromium)" >&2; exit 2; }
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$tmp/profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=5000)

# 1. the DOM after load, with every image's decoded width written into it by a script we inject
#    through a copy of the page (the report itself carries no script)
sed 's#</body>#<script>window.addEventListener("load",()=>{for(const i of document.images){i.setAttribute("data-decoded-width",i.naturalWidth)}})</script></body>#' \
  "$report" > "$tmp/probe.html"
"$browser" "${flags[@]}" --dump-dom "file://$tmp/probe.html" > "$tmp/dom.html" 2> "$tmp/dom.err" || {
  echo "check_report: chromium failed to load the page" >&2; tail -5 "$tmp/dom.err" >&2; exit 1; }
images=$( (grep -o '<img[^>]*>' "$tmp/dom.html" || true) | wc -l)
decoded=$( (grep -o 'data-decoded-width="[1-9][0-9]*"' "$tmp/dom.html" || true) | wc -l)
errors=$(grep -E 'CONSOLE|Uncaught|net::ERR_|Failed to load resource' "$tmp/dom.err" | grep -v 'probe.html' || true)

# 2. a screenshot of the real page
"$browser" "${flags[@]}" --window-size=1100,6400 --screenshot="$shot" "$url" > /dev/null 2> "$tmp/shot.err" || {
  echo "check_report: chromium failed to take the screenshot" >&2; tail -5 "$tmp/shot.err" >&2; exit 1; }
errors+=$(grep -E 'CONSOLE|Uncaught|net::ERR_|Failed to load resource' "$tmp/shot.err" || true)

if [ "$images" -eq 0 ] || [ "$decoded" -ne "$images" ]; then
  echo "check_report: $decoded of $images images decoded in $report" >&2; exit 1
fi
if [ -n "$errors" ]; then
  echo "check_report: the browser reported errors:" >&2; echo "$errors" >&2; exit 1
fi
[ -s "$shot" ] || { echo "check_report: no screenshot written" >&2; exit 1; }
echo "check_report: $report renders: $images images decoded, no browser errors; screenshot $shot"
