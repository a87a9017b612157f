#!/usr/bin/env bash
# Loads a running CoOpt platform's dashboard (GET /) in headless Chromium (Debian package `chromium`) and checks
# the DOM Chromium built from it: every section of the page is there (round, rounds, participants, shards, uploads,
# uniformity, residuals, fusion, timeline), the participants table has at least N rows, there is no script
# element, the page reloads itself (meta refresh), and the browser logged no error (console, failed request,
# connection, Content-Security-Policy violation). Then writes a screenshot of the page. With curl installed, it
# first checks that the URL answers 200.
#
#   scripts/check_dashboard.sh [--participants N] [--insecure] [--operator-token-file FILE] URL SCREENSHOT.png
#
#   URL               the dashboard, e.g. http://127.0.0.1:8765/ (what `coopt platform serve` printed)
#   --participants N  at least N participant rows (default 1)
#   --insecure        accept a certificate the system does not trust (a test platform's self-signed one)
#   --operator-token-file FILE  the operator's token (the platform directory's operator.token): the dashboard is for
#                     participants and the operator unless serve ran with --public-dashboard; Chromium logs in at
#                     /login?token=… (which sets the session cookie and redirects to the dashboard), curl sends it
#                     as Authorization: Bearer
#
# Exit 0 when the dashboard passes, 1 when it does not, 2 for bad arguments or no Chromium.
set -euo pipefail
usage="usage: check_dashboard.sh [--participants N] [--insecure] [--operator-token-file FILE] URL SCREENSHOT.png"
min_participants=1
insecure=0
token_file=
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --participants) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; min_participants=$2; shift 2 ;;
    --participants=*) min_participants=${1#*=}; shift ;;
    --insecure) insecure=1; shift ;;
    --operator-token-file) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; token_file=$2; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "check_dashboard: unknown option $1" >&2; echo "$usage" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -eq 2 ] || { echo "$usage" >&2; exit 2; }
url=${positional[0]}
shot=${positional[1]}
[[ $min_participants =~ ^[0-9]+$ ]] || { echo "check_dashboard: --participants takes a whole number" >&2; exit 2; }
[[ $url =~ ^https?://[^/?#[:space:]]+ ]] || { echo "check_dashboard: not an http(s) URL: $url" >&2; exit 2; }
[[ $shot == *.png ]] || { echo "check_dashboard: the screenshot must be a .png file: $shot" >&2; exit 2; }
shot_dir=$(dirname "$shot")
[ -d "$shot_dir" ] || { echo "check_dashboard: no such directory: $shot_dir" >&2; exit 2; }
shot="$(cd "$shot_dir" && pwd)/$(basename "$shot")"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check_dashboard: chromium is not installed (apt-get install chromium)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load_url=$url
auth=()
if [ -n "$token_file" ]; then
  [ -r "$token_file" ] || { echo "check_dashboard: cannot read $token_file" >&2; exit 2; }
  token=$(head -n 1 "$token_file")
  [[ $token =~ ^[A-Za-z0-9_-]+$ ]] || { echo "check_dashboard: $token_file holds no operator token" >&2; exit 2; }
  # the header from a file in the private temporary directory: the token stays out of curl's command line
  (umask 077; printf 'Authorization: Bearer %s\n' "$token" > "$tmp/auth.header")
  auth=(-H "@$tmp/auth.header")
  load_url="${url%/}/login?token=$token"
fi
# the virtual time budget stays below the page's 5 s refresh, so the DOM is the first load's
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$tmp/profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=3000)
[ "$insecure" -eq 0 ] || flags+=(--ignore-certificate-errors)
browser_errors='CONSOLE|Uncaught|net::ERR_|Failed to load resource|Refused to'

# 0. the platform answers GET with 200 (when curl is there to ask; Chromium does not report the status)
if command -v curl > /dev/null; then
  curl_flags=(--silent --show-error --max-time 20 --output /dev/null --write-out '%{http_code}')
  [ "$insecure" -eq 0 ] || curl_flags+=(--insecure)
  code=$(curl "${curl_flags[@]}" ${auth[@]+"${auth[@]}"} "$url" 2> "$tmp/curl.err" || true)
  if [ "$code" != 200 ]; then
    echo "check_dashboard: $url answered HTTP ${code:-nothing} $(head -c 300 "$tmp/curl.err")" >&2; exit 1
  fi
fi

# 1. the DOM after load
"$browser" "${flags[@]}" --dump-dom "$load_url" > "$tmp/dom.html" 2> "$tmp/dom.err" || {
  echo "check_dashboard: chromium failed to load $url" >&2; tail -5 "$tmp/dom.err" >&2; exit 1; }
if grep -qE 'Page load failed|net::ERR_' "$tmp/dom.err"; then
  echo "check_dashboard: chromium could not load $url:" >&2; grep -E 'Page load failed|net::ERR_' "$tmp/dom.err" >&2
  exit 1
fi
errors=$(grep -E "$browser_errors" "$tmp/dom.err" || true)

# 2. a screenshot of the page
"$browser" "${flags[@]}" --window-size=1280,3200 --screenshot="$shot" "$load_url" > /dev/null 2> "$tmp/shot.err" || {
  echo "check_dashboard: chromium failed to take the screenshot" >&2; tail -5 "$tmp/shot.err" >&2; exit 1; }
shot_errors=$(grep -E "$browser_errors" "$tmp/shot.err" || true)
if [ -n "$shot_errors" ]; then errors+="${errors:+$'\n'}$shot_errors"; fi

failures=()
for id in round rounds participants shards uploads uniformity residuals fusion timeline; do
  grep -q "<section id=\"$id\"" "$tmp/dom.html" || failures+=("no section #$id")
done
# the participants section, on one line, up to its end; one row per participant carries data-participant
participants=$(tr '\n' ' ' < "$tmp/dom.html" | grep -o '<section id="participants".*' | sed 's#</section>.*##' || true)
rows=$( (grep -o '<tr data-participant=' <<< "$participants" || true) | wc -l)
[ "$rows" -ge "$min_participants" ] ||
  failures+=("$rows participant rows in #participants, expected at least $min_participants")
if grep -qi '<script' "$tmp/dom.html"; then failures+=("the page has a script element"); fi
grep -Eqi '<meta http-equiv="refresh" content="[0-9]+' "$tmp/dom.html" || failures+=("no <meta http-equiv=\"refresh\">")
[ -s "$shot" ] || failures+=("no screenshot written")
if [ -n "$errors" ]; then failures+=("the browser reported errors:"$'\n'"$errors"); fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "check_dashboard: $url fails:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
refresh=$(grep -Eoi '<meta http-equiv="refresh" content="[0-9]+' "$tmp/dom.html" | grep -Eo '[0-9]+$' | head -1)
echo "check_dashboard: $url renders: 9 sections, $rows participant rows, reloads every ${refresh} s, no script," \
  "no browser errors; screenshot $shot"
