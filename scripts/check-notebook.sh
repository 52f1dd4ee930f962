#!/usr/bin/env bash
# The teaching notebook: replays Sessions/teaching.graft, every figure verified, into a Markdown
# transcript and one self-contained HTML page (.build/notebook/), then opens the page in headless
# Chromium and fails unless every image on it loaded. A screenshot of the page goes beside it
# (.build/notebook/teaching.png).
#
#   scripts/check-notebook.sh [path/to/graft] [SESSION.graft]
#
# Without a graft binary it builds and uses the release build. CI passes the debug build make test
# left (its kernels are optimized as in release, and give the same bits: the replay is verified).
#
# Installs Debian's chromium when it is missing (root, or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
graft=""
if [[ $# -gt 0 && "$1" != *.graft ]]; then graft="$1"; shift; fi
session="${1:-Sessions/teaching.graft}"
out=.build/notebook
if ! command -v chromium > /dev/null; then
    echo "== installing chromium (Debian's package)"
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
fi
if [[ -z "$graft" ]]; then
    echo "== building graft (release)"
    swift build -c release --product graft 2>&1 | tail -1
    graft=.build/release/graft
fi
rm -rf "$out" && mkdir -p "$out"
name=$(basename "$session" .graft)
start=$(date +%s)
"$graft" run --verify "$session" --transcript "$out/$name.md" --html "$out/$name.html" > "$out/$name.log" 2>&1 \
    || { tail -40 "$out/$name.log"; echo "FAIL: $session did not replay with its figures"; exit 1; }
tail -1 "$out/$name.log"
echo "replayed in $(( $(date +%s) - start )) s"

# Every picture the Markdown links exists.
missing=0
while read -r file; do
    [[ -s "$out/$file" ]] || { echo "missing picture: $file"; missing=1; }
done < <(grep -o '](<\?\([^)>]*\.\(png\|svg\)\)>\?)' "$out/$name.md" | sed 's/^](<\?//; s/>\?)$//')
[[ $missing -eq 0 ]] || exit 1

# The page in a browser: a copy that counts its images once they have loaded (or failed).
pictures=$(grep -c '<img ' "$out/$name.html" || true)
sed 's|</body>|<script>addEventListener("load", () => { const all = [...document.images]; const broken = all.filter(i => !(i.complete \&\& i.naturalWidth > 0)).length; document.body.setAttribute("data-images", all.length + " " + broken); });</script></body>|' \
    "$out/$name.html" > "$out/check.html"
browser=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --virtual-time-budget=30000)
"${browser[@]}" --dump-dom "file://$PWD/$out/check.html" 2> "$out/chromium.log" > "$out/dom.html" || { tail -20 "$out/chromium.log"; exit 1; }
counts=$(grep -o 'data-images="[0-9]* [0-9]*"' "$out/dom.html" | head -1 | tr -dc '0-9 ')
read -r loaded broken <<< "${counts:-0 -1}"
"${browser[@]}" --window-size=1280,8000 --screenshot="$PWD/$out/$name.png" "file://$PWD/$out/$name.html" 2>> "$out/chromium.log" > /dev/null || true
echo "pictures: $pictures in the page, $loaded seen by Chromium, $broken broken; screenshot $out/$name.png"
if [[ "$broken" != 0 || "$loaded" != "$pictures" || "$pictures" -lt 6 ]]; then echo "FAIL: the notebook's pictures did not all load"; exit 1; fi
