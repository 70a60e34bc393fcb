#!/usr/bin/env bash
# Checks that vocabularies are spelled in one place only (issue 9, "the seams as contracts"):
# a quoted task kind anywhere in src/ outside src/tasks/protocol.h means a task is enqueued,
# registered or compared by its string instead of through the typed protocol. Prints every
# offending file:line and exits 1; exits 0 when clean. One function per vocabulary.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0

# Task kinds: the names protocol.h gives (kKind[] = "..."), quoted, anywhere else in src/.
check_task_kinds() {
  local kinds pattern hits
  kinds=$(grep -oE 'kKind\[\] = "[a-z_]+"' src/tasks/protocol.h | grep -oE '"[a-z_]+"')
  if [[ -z $kinds ]]; then
    echo "check-vocabulary: no task kinds found in src/tasks/protocol.h" >&2
    return 1
  fi
  pattern=$(paste -sd'|' <<<"$kinds")
  hits=$(grep -rnE --include='*.cc' --include='*.h' "$pattern" src | grep -v '^src/tasks/protocol.h:' || true)
  if [[ -n $hits ]]; then
    echo "check-vocabulary: task kinds spelled outside src/tasks/protocol.h (use tasks::<Kind>):"
    echo "$hits"
    return 1
  fi
}

check_task_kinds || fail=1
exit $fail
