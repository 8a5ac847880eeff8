# Sourced by .ci/run before `npm test`: installs moto's server (pinned) with pip, starts it on a free
# loopback port in the background, waits (bounded) until it answers, and exports MOTO_ENDPOINT for the
# moto contract suite (test/contract/moto.e2e.test.ts). The server is stopped when the sourcing shell
# exits. Any failure here stops the run: the suite needs moto under CI.
MOTO_VERSION=5.2.1

moto_fail() {
  echo "error: .ci/moto.sh: $1" >&2
  return 1
}

if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --no-input --disable-pip-version-check "moto[server]==${MOTO_VERSION}" 2>/dev/null; then
  # A system Python that refuses global installs (PEP 668): install for the user instead.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --no-input --disable-pip-version-check --user --break-system-packages "moto[server]==${MOTO_VERSION}" ||
    moto_fail "could not install moto[server]==${MOTO_VERSION} with pip" || return 1
  PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
command -v moto_server >/dev/null || moto_fail "moto_server is not on PATH after installing moto[server]==${MOTO_VERSION}" || return 1

MOTO_LOG="$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX")"
# Port 0: the server takes a free port and prints it ("Running on http://127.0.0.1:PORT").
env -u MOTO_ACCOUNT_ID moto_server -H 127.0.0.1 -p 0 >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
_moto_previous_exit_trap="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
# shellcheck disable=SC2064 # expanded now on purpose: the pid and any earlier EXIT trap
trap "kill ${MOTO_PID} 2>/dev/null || true; ${_moto_previous_exit_trap}" EXIT

MOTO_ENDPOINT=""
for _ in $(seq 1 150); do # at most 30 s
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    cat "$MOTO_LOG" >&2
    moto_fail "moto_server exited before it answered" || return 1
  fi
  port="$(sed -nE 's#.*Running on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$MOTO_LOG" | head -n 1)"
  if [ -n "$port" ] && python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "http://127.0.0.1:${port}/moto-api/" 2>/dev/null; then
    MOTO_ENDPOINT="http://127.0.0.1:${port}"
    break
  fi
  sleep 0.2
done
[ -n "$MOTO_ENDPOINT" ] || { cat "$MOTO_LOG" >&2; moto_fail "moto_server did not answer within 30 s"; } || return 1
export MOTO_ENDPOINT
echo "moto ${MOTO_VERSION} serving at ${MOTO_ENDPOINT} (pid ${MOTO_PID}, log ${MOTO_LOG})"
