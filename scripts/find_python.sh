#!/usr/bin/env bash
# Prints the path of a Python 3.10 (Rasa 3.6 runs on 3.8–3.10 only; we pin 3.10).
# Looks at $PYTHON, python3.10 on PATH, then pyenv. Exits 1 with a clear message when none.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    candidates+=("$root/versions/$v/bin/python")
  done
fi
for dir in "$HOME"/.pyenv/versions/3.10*/bin /usr/local/bin /usr/bin; do
  [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
done

for py in "${candidates[@]}"; do
  if is_310 "$py"; then echo "$py"; exit 0; fi
done

cat >&2 <<'MSG'
RideDesk needs Python 3.10 (Rasa 3.6 supports Python 3.8–3.10 only), and none was found.
Install one, then run the command again:
  - with pyenv:   pyenv install 3.10.13
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv   (where your release ships it)
  - or point at one: PYTHON=/path/to/python3.10 make run
MSG
exit 1
