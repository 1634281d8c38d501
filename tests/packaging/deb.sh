#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages on this machine: build them with CPack from a build
# tree, run lintian, install both with dpkg, check files, conffiles,
# users, folder modes, the packaged configurations and the installed
# rules, reinstall, remove (conffiles stay), purge (everything the
# install made goes). The machine is left as it was found: the packages
# are purged and the users the install made are deleted on any exit.
#
# usage: tests/packaging/deb.sh BUILD_DIR SOURCE_DIR
# Needs root (dpkg -i); exits 77 (ctest: skipped) otherwise.
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
pkgs=(vigil-agent vigil-collector)
users=(vigil vigil-collector)

if [ "$(id -u)" -ne 0 ]; then
	echo "deb.sh: SKIP: installs packages with dpkg, needs root" >&2
	exit 77
fi

failures=0
ok() { printf 'ok    %s\n' "$*"; }
bad() {
	printf 'FAIL  %s\n' "$*"
	failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: the command's success is the check.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
# same DESCRIPTION WANT GOT
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		bad "$1: want '$2', got '$3'"
	fi
}
die() {
	echo "deb.sh: $*" >&2
	exit 1
}

for tool in cpack lintian dpkg-deb dpkg-shlibdeps readelf systemd-analyze; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (packaging/install-deps.sh installs it)"
done
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ "$prefix" = /usr ] ||
	die "$build is configured with CMAKE_INSTALL_PREFIX=$prefix; packages need /usr"
[ -x "$build/bin/vigil-collector" ] || die "no vigil-collector in $build/bin"

# Refuse to touch a machine where Vigil is installed or was set up by
# hand: the purge below would take it away.
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"" | not-installed) ;;
	*) die "$p is on this machine ($status); this test installs and purges its own" ;;
	esac
done
for d in /etc/vigil /var/lib/vigil /var/lib/vigil-collector /var/log/vigil; do
	[ ! -e "$d" ] || die "$d exists; this test would remove it"
done
had_user=()
for u in "${users[@]}"; do
	if getent passwd "$u" >/dev/null; then had_user+=("$u"); fi
done

# Every path with "vigil" in its name under the places a package or its
# scripts write to; after the purge the list must be what it was before.
# (Network namespaces that other tests name vigil-* are not ours.)
vigil_paths() {
	find /etc /var /usr /lib/systemd /run -xdev 2>/dev/null |
		grep -i vigil | grep -v -e '^/var/lib/dpkg/' -e '^/run/netns/' |
		LC_ALL=C sort || true
}

# dpkg refuses to run while apt or dpkg holds its lock: wait for it.
dpkg_run() {
	local out
	for _ in $(seq 1 60); do
		if out=$(DEBIAN_FRONTEND=noninteractive dpkg "$@" 2>&1); then
			printf '%s\n' "$out" >>"$tmp/dpkg.log"
			return 0
		fi
		printf '%s\n' "$out" >>"$tmp/dpkg.log"
		case "$out" in
		*"lock"*) sleep 5 ;;
		*)
			printf '%s\n' "$out" >&2
			return 1
			;;
		esac
	done
	return 1
}

tmp=$(mktemp -d)
agent_pid=
cleanup() {
	local p u status
	if [ -n "$agent_pid" ]; then
		kill "$agent_pid" 2>/dev/null || true
		wait "$agent_pid" 2>/dev/null || true
	fi
	for p in "${pkgs[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		case "$status" in
		"" | not-installed) ;;
		*) dpkg_run --purge "$p" || echo "deb.sh: could not purge $p" >&2 ;;
		esac
	done
	# What a failed purge left (none of it was there before the test).
	rm -rf /etc/vigil /var/lib/vigil /var/lib/vigil-collector /var/log/vigil
	# The users this test made go, once no process runs as them (another
	# test may have picked one up meanwhile: wait for it, a while).
	for u in "${users[@]}"; do
		case " ${had_user[*]:-} " in *" $u "*) continue ;; esac
		getent passwd "$u" >/dev/null || continue
		for _ in $(seq 1 60); do
			pgrep -u "$u" >/dev/null || break
			sleep 2
		done
		userdel "$u" || echo "deb.sh: could not delete the user $u" >&2
		if getent group "$u" >/dev/null; then groupdel "$u" || true; fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

before=$(vigil_paths)

echo "== build the packages (cpack)"
(cd "$build" && cpack -G DEB --config CPackConfig.cmake -B "$tmp/out") \
	>"$tmp/cpack.log" 2>&1 || {
	cat "$tmp/cpack.log"
	die "cpack failed"
}
agent_deb=$(ls "$tmp"/out/vigil-agent_*.deb)
collector_deb=$(ls "$tmp"/out/vigil-collector_*.deb)
check "two packages built" test -f "$agent_deb" -a -f "$collector_deb"
for deb in "$agent_deb" "$collector_deb"; do
	name=$(dpkg-deb -f "$deb" Package)
	depends=$(dpkg-deb -f "$deb" Depends)
	case "$depends" in
	*libc6*adduser* | *adduser*libc6*) ok "$name: Depends from dpkg-shlibdeps and adduser" ;;
	*) bad "$name: Depends is '$depends'" ;;
	esac
done

echo "== lintian"
# Errors and warnings fail, unless overridden with a reason in
# packaging/debian/*/lintian-overrides; the rest is shown.
if lintian --fail-on error,warning --display-info \
	"$agent_deb" "$collector_deb" >"$tmp/lintian.log" 2>&1; then
	ok "lintian: no error or warning outside the explained overrides"
else
	bad "lintian"
fi
grep '^[EWIPX]:' "$tmp/lintian.log" || true
# What the overrides hide, for the log (lintian exits 2 with them shown).
lintian --show-overrides "$agent_deb" "$collector_deb" 2>/dev/null |
	grep '^O:' | sed 's/^/  /' || true

echo "== install"
check "dpkg -i both packages" dpkg_run -i "$agent_deb" "$collector_deb"
for p in "${pkgs[@]}"; do
	same "$p: installed" "install ok installed" \
		"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)"
done

# Paths that dpkg leaves out on this machine (path-exclude in
# /etc/dpkg/dpkg.cfg.d, as slim images have for man pages and docs).
excludes=() includes=()
while read -r key pat; do
	case "$key" in
	path-exclude) excludes+=("${pat#=}") ;;
	path-include) includes+=("${pat#=}") ;;
	esac
done < <(cat /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/* 2>/dev/null |
	sed -n 's/^[[:space:]]*\(path-[a-z]*\)[[:space:]=]*/\1 /p')
dpkg_skips() {
	local pat ex=1
	for pat in "${excludes[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == $pat ]] && ex=0
	done
	[ "$ex" -eq 0 ] || return 1
	for pat in "${includes[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == $pat ]] && return 1
	done
	return 0
}
# on_disk PATH: there, or left out by dpkg's configuration.
on_disk() {
	[ -s "$1" ] || [ -d "$1" ] || dpkg_skips "$1"
}

# Files: every path each package lists is there, and the main ones are
# the project's own.
for p in "${pkgs[@]}"; do
	missing=0
	while read -r f; do
		on_disk "$f" || [ -e "$f" ] || {
			echo "  $p: missing $f"
			missing=$((missing + 1))
		}
	done < <(dpkg -L "$p")
	same "$p: every file of the package is on disk" 0 "$missing"
done
for b in vigil-agent vigil-collector; do
	check "/usr/bin/$b is executable" test -x "/usr/bin/$b"
	if readelf -S "/usr/bin/$b" | grep -q -e '\.symtab' -e '\.debug_'; then
		bad "/usr/bin/$b is not stripped"
	else
		ok "/usr/bin/$b is stripped"
	fi
	check "/lib/systemd/system/$b.service is the project's" \
		cmp -s "$src/packaging/systemd/$b.service" "/lib/systemd/system/$b.service"
	check "man page of $b" on_disk "/usr/share/man/man8/$b.8.gz"
	check "copyright of $b" on_disk "/usr/share/doc/$b/copyright"
	out=$(systemd-analyze verify --man=no "/lib/systemd/system/$b.service" 2>&1 || echo "rc=$?")
	same "systemd-analyze verify $b.service" "" "$out"
done
check "the threat model is in the agent's documents" \
	cmp -s "$src/SECURITY.md" /usr/share/doc/vigil-agent/SECURITY.md
check "/etc/vigil/agent.yaml is the packaged one" \
	cmp -s "$src/packaging/debian/agent.yaml" /etc/vigil/agent.yaml
check "/etc/vigil/collector.yaml is the packaged one" \
	cmp -s "$src/packaging/debian/collector.yaml" /etc/vigil/collector.yaml
check "/etc/vigil/rules.d is an empty folder" \
	test -d /etc/vigil/rules.d -a -z "$(ls -A /etc/vigil/rules.d)"
for sub in network yara ioc tests; do
	same "/usr/share/vigil/rules/$sub: as many files as rules/$sub" \
		"$(find "$src/rules/$sub" -type f | wc -l)" \
		"$(find "/usr/share/vigil/rules/$sub" -type f | wc -l)"
done
check "the dashboard under /usr/share/vigil/dashboards/web" \
	cmp -s "$src/dashboards/web/index.html" /usr/share/vigil/dashboards/web/index.html

# Conffiles registered with the md5 of the file on disk.
for pair in vigil-agent:/etc/vigil/agent.yaml vigil-collector:/etc/vigil/collector.yaml; do
	p=${pair%%:*}
	f=${pair#*:}
	sum=$(md5sum "$f" | cut -d' ' -f1 || true)
	same "$p: conffiles" " $f $sum" \
		"$(dpkg-query -W -f='${Conffiles}' "$p" | sed -n '/./p')"
done

# Users: system uids, no login shell, locked password, the state folder
# as home.
for u in "${users[@]}"; do
	IFS=: read -r _ _ uid gid _ home shell < <(getent passwd "$u") || true
	check "user $u exists" test -n "${uid:-}"
	case " ${had_user[*]:-} " in
	*" $u "*)
		echo "note  user $u was there before the install: not the package's to check"
		continue
		;;
	esac
	check "user $u: system uid ($uid, 100..999)" test "${uid:-0}" -ge 100 -a "${uid:-0}" -le 999
	same "user $u: shell" /usr/sbin/nologin "${shell:-}"
	same "user $u: home" "/var/lib/$u" "${home:-}"
	same "user $u: primary group" "$u" "$(getent group "${gid:-x}" | cut -d: -f1)"
	pw=$(getent shadow "$u" | cut -d: -f2 || true)
	case "$pw" in
	'*' | '!'*) ok "user $u: no password ($pw)" ;;
	*) bad "user $u: password field '$pw'" ;;
	esac
	check "user $u: home not made by adduser beyond the state folder" \
		test ! -e "/home/$u"
done

# State folders: owner, group and mode.
modes() { stat -c '%a %U:%G' "$1" 2>/dev/null || echo "(missing)"; }
same /var/lib/vigil "750 vigil:vigil" "$(modes /var/lib/vigil)"
same /var/lib/vigil/spool "700 vigil:vigil" "$(modes /var/lib/vigil/spool)"
same /var/lib/vigil/quarantine "700 vigil:vigil" "$(modes /var/lib/vigil/quarantine)"
same /var/lib/vigil/bundle "700 vigil:vigil" "$(modes /var/lib/vigil/bundle)"
same /var/lib/vigil-collector "750 vigil-collector:vigil-collector" \
	"$(modes /var/lib/vigil-collector)"
same /var/lib/vigil-collector/archive "750 vigil-collector:vigil-collector" \
	"$(modes /var/lib/vigil-collector/archive)"

echo "== the installed configuration and rules"
# The packaged configuration loads what the build tree's agent loads
# with the shipped rules, and so does the user vigil.
summary() { sed -n 's/.*configuration OK; //p'; }
want=$("$build/bin/vigil-agent" check 2>&1 | summary || true)
got=$(/usr/bin/vigil-agent check -c /etc/vigil/agent.yaml 2>&1 | summary || true)
check "vigil-agent check -c /etc/vigil/agent.yaml passes" \
	/usr/bin/vigil-agent check -c /etc/vigil/agent.yaml
same "installed rules are the shipped set" "$want" "$got"
got=$(runuser -u vigil -- /usr/bin/vigil-agent check -c /etc/vigil/agent.yaml 2>&1 | summary || true)
same "the user vigil reads the configuration and rules" "$want" "$got"
check "vigil-collector check -c /etc/vigil/collector.yaml passes" \
	/usr/bin/vigil-collector check -c /etc/vigil/collector.yaml
check "the user vigil-collector reads its configuration" \
	runuser -u vigil-collector -- /usr/bin/vigil-collector check -c /etc/vigil/collector.yaml
if /usr/bin/vigil-agent rules test /usr/share/vigil/rules/tests >"$tmp/rules-test.log" 2>&1; then
	ok "vigil-agent rules test on the installed rules: $(tail -1 "$tmp/rules-test.log")"
else
	tail -20 "$tmp/rules-test.log"
	bad "vigil-agent rules test on the installed rules"
fi

# Local rules in /etc/vigil/rules.d are loaded next to the shipped ones.
cat >/etc/vigil/rules.d/local.yaml <<'EOF'
- id: 1999001
  rev: 1
  name: Local rule of the packaging test
  category: Discovery
  severity: low
  match:
    protocol: DNS
    dst_port: 5353
EOF
cat >/etc/vigil/rules.d/local.yar <<'EOF'
rule Local_Packaging_Test
{
    strings:
        $a = "vigil packaging test marker"
    condition:
        $a
}
EOF
got=$(/usr/bin/vigil-agent check -c /etc/vigil/agent.yaml 2>&1 | summary || true)
n_net=$(sed -n 's/^\([0-9]*\) rules.*/\1/p' <<<"$want")
n_yara=$(sed -n 's/.*, \([0-9]*\) YARA rules.*/\1/p' <<<"$want")
case "$got" in
"$((n_net + 1)) rules"*", $((n_yara + 1)) YARA rules"*)
	ok "a network rule and a YARA rule in /etc/vigil/rules.d are loaded ($got)" ;;
*) bad "local rules in /etc/vigil/rules.d: got '$got' (shipped: '$want')" ;;
esac

echo "== the agent with the unit's user and capabilities"
# setpriv stands in for systemd (not PID 1 in CI): the unit's User= and
# AmbientCapabilities=, no new privileges; live capture, promiscuous, on
# the loopback of a network namespace of its own.
unit=/lib/systemd/system/vigil-agent.service
unit_user=$(sed -n 's/^User=//p' "$unit")
unit_caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
setpriv_caps=$(for c in $unit_caps; do
	c=${c#CAP_}
	printf '+%s,' "${c,,}"
done)
setpriv_caps=${setpriv_caps%,}
want_capeff=0
for c in $unit_caps; do
	case "$c" in
	CAP_NET_RAW) want_capeff=$((want_capeff | 1 << 13)) ;;
	CAP_NET_ADMIN) want_capeff=$((want_capeff | 1 << 12)) ;;
	CAP_DAC_READ_SEARCH) want_capeff=$((want_capeff | 1 << 2)) ;;
	CAP_DAC_OVERRIDE) want_capeff=$((want_capeff | 1 << 1)) ;;
	*) bad "capability $c: not known to this test" ;;
	esac
done
chmod 0755 "$tmp"
{
	cat /etc/vigil/agent.yaml
	printf 'capture:\n  interfaces:\n    - name: lo\n      promiscuous: true\n'
} >"$tmp/run.yaml"
chmod 0644 "$tmp/run.yaml"
# shellcheck disable=SC2016 # the inner shell expands its arguments
unshare -n sh -c 'ip link set lo up && exec setpriv --reuid="$1" --regid="$1" \
	--init-groups --no-new-privs --inh-caps=-all,"$2" \
	--ambient-caps=-all,"$2" --bounding-set=-all,"$2" \
	/usr/bin/vigil-agent run -c "$3"' sh "$unit_user" "$setpriv_caps" \
	"$tmp/run.yaml" >"$tmp/run.log" 2>&1 &
agent_pid=$!
for _ in $(seq 1 100); do
	grep -q 'running' "$tmp/run.log" && break
	kill -0 "$agent_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$agent_pid" 2>/dev/null && grep -q 'running' "$tmp/run.log"; then
	ok "vigil-agent runs as $unit_user with $unit_caps"
	same "its uid (/proc/PID/status)" "$(id -u "$unit_user")" \
		"$(awk '/^Uid:/ { print $3 }' "/proc/$agent_pid/status")"
	# The packaged configuration watches no folder: of what the unit
	# gives, the agent keeps CAP_NET_RAW only (privdrop.c).
	same "its effective capabilities (/proc/PID/status)" \
		"$(printf '%016x' $((want_capeff & 1 << 13)))" \
		"$(awk '/^CapEff:/ { print $2 }' "/proc/$agent_pid/status")"
	same "lo of its namespace is promiscuous" 1 \
		"$(nsenter -t "$agent_pid" -n ip -d link show lo |
			sed -n 's/.*promiscuity \([0-9]*\).*/\1/p')"
	kill -TERM "$agent_pid"
	rc=0
	wait "$agent_pid" || rc=$?
	same "SIGTERM: it drains and exits 0" 0 "$rc"
else
	cat "$tmp/run.log"
	bad "vigil-agent did not start as $unit_user with $unit_caps"
	kill "$agent_pid" 2>/dev/null || true
	wait "$agent_pid" 2>/dev/null || true
fi
agent_pid=

echo "== reinstall"
echo "# changed by the administrator" >>/etc/vigil/agent.yaml
uid_before=$(id -u vigil || true)
check "dpkg -i both packages again" dpkg_run -i "$agent_deb" "$collector_deb"
check "the changed conffile is kept" grep -q '^# changed by the administrator' /etc/vigil/agent.yaml
check "no .dpkg-dist or .dpkg-old next to it" \
	test -z "$(find /etc/vigil -name '*.dpkg-*')"
same "user vigil keeps its uid" "$uid_before" "$(id -u vigil)"
same "/var/lib/vigil/spool after reinstall" "700 vigil:vigil" "$(modes /var/lib/vigil/spool)"
check "local rules kept" test -f /etc/vigil/rules.d/local.yaml

echo "== upgrade"
# The same tree packaged as a later version stands in for a new release.
version=$(dpkg-deb -f "$agent_deb" Version)
(cd "$build" && cpack -G DEB --config CPackConfig.cmake -B "$tmp/up" \
	-D CPACK_PACKAGE_VERSION="$version+1") >"$tmp/cpack-up.log" 2>&1 || {
	cat "$tmp/cpack-up.log"
	die "cpack (upgrade) failed"
}
touch /var/lib/vigil/spool/kept-by-upgrade
check "dpkg -i the later version" dpkg_run -i "$tmp"/up/vigil-agent_*.deb \
	"$tmp"/up/vigil-collector_*.deb
for p in "${pkgs[@]}"; do
	same "$p: upgraded" "install ok installed $version+1" \
		"$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)"
done
check "the changed conffile is kept on upgrade" \
	grep -q '^# changed by the administrator' /etc/vigil/agent.yaml
check "the spool is kept on upgrade" test -f /var/lib/vigil/spool/kept-by-upgrade
same "user vigil keeps its uid on upgrade" "$uid_before" "$(id -u vigil || true)"
check "the upgraded agent loads its configuration" \
	/usr/bin/vigil-agent check -c /etc/vigil/agent.yaml

echo "== remove"
check "dpkg -r both packages" dpkg_run -r "${pkgs[@]}"
for p in "${pkgs[@]}"; do
	same "$p: only its configuration left" "deinstall ok config-files" \
		"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)"
done
check "binaries gone" test ! -e /usr/bin/vigil-agent -a ! -e /usr/bin/vigil-collector
check "shipped rules gone" test ! -e /usr/share/vigil
check "changed agent.yaml kept" grep -q '^# changed by the administrator' /etc/vigil/agent.yaml
check "collector.yaml kept" test -f /etc/vigil/collector.yaml
check "state folders kept" test -d /var/lib/vigil/spool -a -d /var/lib/vigil-collector/archive

echo "== purge"
check "dpkg --purge both packages" dpkg_run --purge "${pkgs[@]}"
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"" | not-installed) ok "$p: purged" ;;
	*) bad "$p: status $status after purge" ;;
	esac
done
after=$(vigil_paths)
if [ "$after" = "$before" ]; then
	ok "purge removed every path the install made"
else
	bad "left after purge:"
	printf '%s\n' "$after" | sed 's/^/  /'
fi
# The system users stay on purge, as Debian does (packaging/debian/*/postrm);
# the cleanup deletes the ones this test made.
for u in "${users[@]}"; do
	if getent passwd "$u" >/dev/null; then
		ok "user $u kept on purge"
	else
		bad "user $u removed on purge"
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "deb.sh: $failures check(s) failed"
	exit 1
fi
echo "deb.sh: all checks passed"
