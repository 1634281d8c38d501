#!/bin/sh
# Browser test of the web dashboard: installs what is missing (Debian's
# chromium, nodejs and npm; playwright-core from package-lock.json), then
# runs dashboard.test.mjs with Node's test runner. No browser is downloaded:
# playwright-core drives /usr/bin/chromium.
set -eu
# The collector for collector.test.mjs: first argument, else $VIGIL_COLLECTOR,
# else build/bin/vigil-collector; made absolute before the cd below.
VIGIL_COLLECTOR=${1:-${VIGIL_COLLECTOR:-$(dirname "$0")/../../build/bin/vigil-collector}}
case $VIGIL_COLLECTOR in /*) ;; *) VIGIL_COLLECTOR=$(pwd)/$VIGIL_COLLECTOR ;; esac
export VIGIL_COLLECTOR
cd "$(dirname "$0")"

missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		SUDO=""
	elif command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "run.sh: missing:$missing; install them as root" >&2
		exit 1
	fi
	echo "run.sh: installing$missing"
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi

# npm ci again only when node_modules is not what package-lock.json pins.
want=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch (e) { "" }')
if [ "$want" != "$have" ]; then
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

mkdir -p artifacts
tests="dashboard.test.mjs collector.test.mjs"
if [ ! -x "$VIGIL_COLLECTOR" ]; then
	echo "run.sh: SKIP collector.test.mjs: no collector binary at $VIGIL_COLLECTOR (build it, or pass its path as the first argument or in VIGIL_COLLECTOR)" >&2
	tests="dashboard.test.mjs"
fi
# shellcheck disable=SC2086
exec node --test $tests
