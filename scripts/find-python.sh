#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter (Chalice takes the Lambda runtime from it).
set -euo pipefail
for candidate in "${PYTHON:-}" python3.12; do
  [ -n "$candidate" ] || continue
  if path=$(command -v "$candidate" 2>/dev/null) && "$path" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
for path in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
  if [ -x "$path" ]; then echo "$path"; exit 0; fi
done
echo "Python 3.12 not found: install it (e.g. apt-get install python3.12 or pyenv install 3.12)" >&2
exit 1
