#!/usr/bin/env bash
# The nt-deploy step of the composite action (action.yml): runs
#   nt-deploy [--config CONFIG] COMMAND ARGS...
# records its exit status as the step output `exit-status` (nt-deploy itself writes
# deployment-id, task-definition, phase and weight to $GITHUB_OUTPUT), and exits with
# that status, so a workflow's `if:` can tell 3 (already rolled back) from 4 (not ours).
#
# Inputs arrive as INPUT_* environment variables, never pasted into this script.
# INPUT_ARGS is split like a shell command line (quotes group words, a backslash
# escapes) but nothing in it is expanded: $VAR, globs and backticks stay literal, so
# a workflow value in `args` cannot run code. An empty INPUT_SERVICE or
# INPUT_DEPLOYMENT_ID leaves the job's NT_DEPLOY_SERVICE / NT_DEPLOY_DEPLOYMENT_ID as
# they are.
#
# The runner signals only this process when a job is cancelled; SIGINT and SIGTERM
# are passed on to nt-deploy, which restores traffic to stable and exits 130.
set -uo pipefail

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
  fi
}

# Bad input to the action is exit 2, like bad input to nt-deploy: nothing was changed.
usage_error() {
  echo "::error title=nt-deploy action::$1"
  output exit-status 2
  exit 2
}

# INPUT_ARGS as words in the array `words`.
split_args() {
  words=()
  local text=${INPUT_ARGS:-}
  if [ -z "${text//[[:space:]]/}" ]; then
    return 0
  fi
  local parsed word
  parsed=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/nt-deploy-args.XXXXXX") || return 1
  if ! printf '%s\n' "$text" | xargs printf '%s\0' > "$parsed"; then
    rm -f "$parsed"
    return 1
  fi
  while IFS= read -r -d '' word; do
    words+=("$word")
  done < "$parsed"
  rm -f "$parsed"
}

# nt-deploy in the background, so that a signal to this script reaches it. bash starts
# a background command with SIGINT ignored (and Python then installs no handler):
# `trap -` gives nt-deploy the default back.
run_nt_deploy() {
  local child interrupted=0
  (
    trap - INT QUIT
    exec nt-deploy "$@"
  ) &
  child=$!
  trap 'interrupted=1; kill -INT "$child" 2>/dev/null' INT TERM
  wait "$child"
  status=$?
  while [ "$interrupted" -eq 1 ]; do # wait was cut short by the signal
    interrupted=0
    wait "$child"
    status=$?
  done
  trap - INT TERM
}

command=${INPUT_COMMAND:-}
if ! [[ "$command" =~ ^[a-z][a-z-]*$ ]]; then
  usage_error "the command input must be one nt-deploy command (canary, promote, rollback, guard, status, validate, ...), got '$command'"
fi
split_args || usage_error "the args input has an unmatched quote: '${INPUT_ARGS:-}'"

global=()
if [ -n "${INPUT_CONFIG:-}" ]; then
  global=(--config "$INPUT_CONFIG")
fi
if [ -n "${INPUT_SERVICE:-}" ]; then
  export NT_DEPLOY_SERVICE="$INPUT_SERVICE"
fi
if [ -n "${INPUT_DEPLOYMENT_ID:-}" ]; then
  export NT_DEPLOY_DEPLOYMENT_ID="$INPUT_DEPLOYMENT_ID"
fi

status=0
# ${a[@]+"${a[@]}"}: an empty array under set -u in the bash 3.2 of macOS runners
run_nt_deploy ${global[@]+"${global[@]}"} "$command" ${words[@]+"${words[@]}"}
output exit-status "$status"

if [ "$status" -eq 5 ]; then
  echo "::error title=ROLLBACK INCOMPLETE: page the on-call::nt-deploy $command could not complete a rollback: production may be half-deployed. See 'nt-deploy status' below, fix, then run 'nt-deploy rollback' again."
  nt-deploy ${global[@]+"${global[@]}"} status || true
fi
exit "$status"
