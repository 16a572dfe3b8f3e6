#!/usr/bin/env bash
# Renders a report's index.html in headless Chromium with a 1280 px wide
# window and checks what a reader would see: every <img> loads, and no table
# is wider than its box or than the window (a table that scrolls sideways
# hides columns).  Folded blocks are opened for the checks.  Writes a PNG
# screenshot of the page as it opens (folds closed) to SCREENSHOT.
#
#   tests/chromium/check_report.sh REPORT_DIR SCREENSHOT.png
#
# Exit status: 0 passed, 1 a check failed (each failure printed), 2 bad
# usage or Chromium failed, 77 Chromium is not installed (skipped, with a
# message: CI does not install it; Debian: apt-get install chromium).
set -euo pipefail

if [ $# -ne 2 ] || [ ! -f "$1/index.html" ]; then
    echo "usage: $0 REPORT_DIR SCREENSHOT.png (REPORT_DIR holds index.html)" >&2
    exit 2
fi
report_dir=$(cd "$1" && pwd)
screenshot=$2
here=$(cd "$(dirname "$0")" && pwd)

browser=""
for name in chromium chromium-browser google-chrome chrome-headless-shell; do
    if command -v "$name" >/dev/null 2>&1; then
        browser=$(command -v "$name")
        break
    fi
done
if [ -z "$browser" ]; then
    echo "SKIP: chromium is not installed, so the report was not checked in a browser (Debian: apt-get install chromium)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The checks run in a copy beside the original: the page itself stays as
# written, and its relative paths (there are none today) would still resolve.
check_page="$report_dir/.chromium-check.html"
trap 'rm -rf "$work" "$check_page"' EXIT
{ cat "$report_dir/index.html"; echo "<script>"; cat "$here/report_checks.js"; echo "</script>"; } >"$check_page"

# --no-sandbox: the sandbox needs user namespaces, which containers and root
# shells often lack; the page is our own file.  --virtual-time-budget lets
# the page's script and image decoding finish before the DOM is dumped.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
       --user-data-dir="$work/profile" --virtual-time-budget=20000)
if ! "$browser" "${flags[@]}" --window-size=1280,900 --dump-dom "file://$check_page" >"$work/dom.html" 2>"$work/chromium.log"; then
    echo "chromium failed to render $check_page:" >&2
    tail -20 "$work/chromium.log" >&2
    exit 2
fi
verdict=$(sed -n '/<pre id="geossl-check">/,/<\/pre>/p' "$work/dom.html" | sed -e 's/<[^>]*>//g' -e 's/&amp;/\&/g' \
          -e 's/&lt;/</g' -e 's/&gt;/>/g' -e '/^$/d')
if [ -z "$verdict" ]; then
    echo "chromium rendered the page but the checks did not report (see $work/chromium.log):" >&2
    tail -20 "$work/chromium.log" >&2
    exit 2
fi
images=$(sed -n 's/^images=//p' <<<"$verdict")
tables=$(sed -n 's/^tables=//p' <<<"$verdict")
height=$(sed -n 's/^height=//p' <<<"$verdict")

# The screenshot shows the whole page as it opens, up to 16000 px tall.
shot_height=$((height < 900 ? 900 : height > 16000 ? 16000 : height))
if ! "$browser" "${flags[@]}" --window-size=1280,"$shot_height" --screenshot="$work/shot.png" \
        "file://$report_dir/index.html" >/dev/null 2>>"$work/chromium.log" || [ ! -s "$work/shot.png" ]; then
    echo "chromium could not take the screenshot:" >&2
    tail -20 "$work/chromium.log" >&2
    exit 2
fi
cp "$work/shot.png" "$screenshot"

echo "chromium: $images images, $tables tables, page $height px tall at 1280 px; screenshot $screenshot"
if grep -q '^problem: ' <<<"$verdict"; then
    grep '^problem: ' <<<"$verdict"
    exit 1
fi
echo "chromium: every image loads and every table fits"
