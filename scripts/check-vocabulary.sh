#!/usr/bin/env bash
# Checks that vocabularies are spelled in one place only (issue 9, "the seams as contracts"):
# - a quoted task kind anywhere in src/ outside src/tasks/protocol.h means a task is enqueued,
#   registered or compared by its string instead of through the typed protocol;
# - a quoted status (volume, snapshot, attachment, backup) anywhere in src/ outside
#   src/lifecycle/ means a status is set or compared by its string instead of through its
#   vocabulary (lifecycle/*_status.h) and transition table (lifecycle/transitions.h). A line
#   whose word only looks like a status (a JSON key, a log level) says so: `// not a status`.
# Prints every offending file:line and exits 1; exits 0 when clean. One function per vocabulary.
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

# Statuses: every `kName[] = "..."` of the headers in src/lifecycle/, quoted, anywhere else.
check_statuses() {
  local words pattern hits
  words=$(grep -hoE 'k[A-Za-z]+\[\] = "[a-z_-]+"' src/lifecycle/*_status.h | grep -oE '"[a-z_-]+"' | sort -u)
  if [[ -z $words ]]; then
    echo "check-vocabulary: no statuses found in src/lifecycle/*_status.h" >&2
    return 1
  fi
  pattern=$(paste -sd'|' <<<"$words")
  hits=$(grep -rnE --include='*.cc' --include='*.h' "$pattern" src | grep -v '^src/lifecycle/' |
         grep -v '// not a status' || true)
  if [[ -n $hits ]]; then
    echo "check-vocabulary: statuses spelled outside src/lifecycle/ (use <resource>_status::k<Name>):"
    echo "$hits"
    return 1
  fi
}

check_task_kinds || fail=1
check_statuses || fail=1
exit $fail
