#!/usr/bin/env bash
# The README's config-key and output-field tables are exactly what `kernelsweep keys --markdown`
# and `kernelsweep fields --markdown` print from the tables the parser and the writers use.
# Usage: readme_tables_test.sh KERNELSWEEP README.md
set -uo pipefail
ks=$1
readme=$2
status=0
check() {  # name begin-marker end-marker
  local expected actual
  expected=$("$ks" "$1" --markdown)
  actual=$(sed -n "/^<!-- $2 -->\$/,/^<!-- $3 -->\$/p" "$readme" | sed '1d;$d')
  if [ "$expected" != "$actual" ]; then
    echo "FAIL: README table differs from kernelsweep $1 --markdown (regenerate it):" >&2
    diff <(echo "$expected") <(echo "$actual") >&2
    status=1
  else
    echo "ok: README $1 table ($(echo "$expected" | wc -l) lines)"
  fi
}
check keys "kernelsweep keys --markdown" "end keys"
check fields "kernelsweep fields --markdown" "end fields"
exit $status
