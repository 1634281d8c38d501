#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The privilege drop of `vigil-agent run`, read from /proc/PID/status.

usage: privdrop.py AGENT SOURCE_DIR

Needs root (CI runs as root); skipped otherwise. The test makes a system
user of its own (useradd --system, removed at the end; `nobody` if
useradd is missing) and two network namespaces joined by a veth pair:
the agent runs in the first, capturing its end, and UDP packets are sent
from the second, so no traffic leaves the namespaces. Then:

- Uid:/Gid: (all four fields) are the user's, Groups: its own,
  CapEff/CapPrm exactly CAP_NET_RAW (promiscuous mode included) +
  CAP_DAC_READ_SEARCH (files.watch), CapBnd the same, CapInh and CapAmb
  empty, NoNewPrivs 1;
- packets sent after the drop are counted in the stats events of the
  file output (created by the agent for the user before the drop);
- a file that only root may read, in a folder only root may enter, is
  still scanned (CAP_DAC_READ_SEARCH) and matched;
- the quarantine folder the agent created belongs to the user, and so
  does rules.bundle.dir (a key pinned, Redis set);
- SIGHUP still reloads the rules (counted in stats.detect.reloads);
- without promiscuous mode and folders: CAP_NET_RAW alone;
- files only: CAP_DAC_READ_SEARCH alone;
- --allow-root: uid 0, but the capabilities are cut the same;
- a user that does not exist: refused, with FILE:LINE: privileges.user.
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigiltest as vt  # noqa: E402

events = vt.read_events
last_stats = vt.last_stats

AGENT, SRC = sys.argv[1], os.path.abspath(sys.argv[2])

CAP_DAC_READ_SEARCH, CAP_NET_RAW = 2, 13
MARK = "VIGIL-PRIVDROP-MARK-" + "5f1e0c"  # never in this file as one
PORT = 40999


def sh(*args, ns=None, check=True):
    argv = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def mask(*caps):
    m = 0
    for c in caps:
        m |= 1 << c
    return m


YARA = """rule Vigil_Privdrop_Test
{
    meta:
        sid = 3999101
    strings:
        $m = "%s"
    condition:
        $m
}
""" % MARK


class Agent:
    def __init__(self, tmp, name, cfg_text, ns=None, extra=()):
        # The control socket in a folder of the test's, not the host's
        # /run/vigil: one the agent makes for the user before the drop.
        self.sock = os.path.join(tmp, name + "-ctl", "agent.sock")
        cfg_text += "control:\n  socket: %s\n" % self.sock
        self.cfg = vt.write(os.path.join(tmp, name + ".yaml"), cfg_text)
        self.errpath = os.path.join(tmp, name + ".stderr")
        self.err = open(self.errpath, "w")
        argv = [AGENT, "run", "-c", self.cfg] + list(extra)
        if ns:
            # ip execs the agent: the pid is the agent's.
            argv = ["ip", "netns", "exec", ns] + argv
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        vt.procs.append(self.p)

    def stderr(self):
        self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def wait_dropped(self):
        """Until the log line of the drop is out (or the agent ended)."""
        return vt.wait_for(lambda: "privileges: " in self.stderr() or
                           self.p.poll() is not None, 20)

    def stop(self):
        rc = vt.stop(self.p)
        self.err.close()
        return rc


def check_ids(name, st, user):
    for k, want in (("Uid", user.pw_uid), ("Gid", user.pw_gid)):
        fields = st.get(k, "").split()
        vt.check("%s: %s: all four fields are %s's" % (name, k, user.pw_name),
                 fields == [str(want)] * 4, st.get(k))
    groups = sorted(int(g) for g in st.get("Groups", "").split())
    want = sorted(set(os.getgrouplist(user.pw_name, user.pw_gid)))
    vt.check(name + ": Groups: are the user's own", groups == want,
             (groups, want))


def check_caps(name, st, want):
    for k in ("CapEff", "CapPrm", "CapBnd"):
        got = int(st.get(k, "-1"), 16)
        vt.check("%s: %s is exactly %#x" % (name, k, want), got == want,
                 "%s=%s" % (k, st.get(k)))
    for k in ("CapInh", "CapAmb"):
        vt.check("%s: %s is empty" % (name, k), int(st.get(k, "-1"), 16) == 0,
                 st.get(k))
    vt.check(name + ": NoNewPrivs: 1", st.get("NoNewPrivs") == "1",
             st.get("NoNewPrivs"))


def make_user():
    """A system user of our own, or nobody; (pwd entry, created)."""
    if shutil.which("useradd"):
        name = "vigil-test-" + secrets.token_hex(2)
        r = subprocess.run(["useradd", "--system", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", name],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return pwd.getpwnam(name), True
        print("note  useradd failed (%s): using nobody" % r.stderr.strip())
    return pwd.getpwnam("nobody"), False


def send_udp(ns, n, dst):
    code = ("import socket,time\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for i in range(%d):\n"
            "    s.sendto(b'privdrop %%d' %% i, ('%s', %d))\n"
            "    time.sleep(0.005)\n" % (n, dst, PORT))
    sh(sys.executable, "-c", code, ns=ns)


def test_full(tmp, user, ns_a, ns_b):
    """Capture (promiscuous) and folders: the two capabilities."""
    watch = os.path.join(tmp, "secret")
    os.makedirs(watch)
    os.chmod(watch, 0o700)  # root's only
    yara = vt.write(os.path.join(tmp, "yara", "t.yar"), YARA)
    rules = vt.write(os.path.join(tmp, "local.yaml"),
                     vt.udp_rule(3000101, "one", PORT))
    out = os.path.join(tmp, "out", "eve.json")
    os.makedirs(os.path.dirname(out))  # root's, 0755: the file is made
    quarantine = os.path.join(tmp, "quarantine")
    text = ("agent:\n  agency: test-agency\n"
            "capture:\n  interfaces:\n    - name: va\n"
            "      bpf: udp port %d\n      promiscuous: true\n"
            "      immediate: true\n" % PORT +
            "workers: 1\n"
            "flows:\n  idle_timeout: 1s\n  dpi_idle_timeout: 1s\n"
            "detection:\n  rules: [%s]\n  ioc: []\n" % rules +
            "files:\n  watch: [%s]\n  rules: [%s]\n" % (watch, yara) +
            "  settle: 1\n  schedule: 0\n  quarantine: %s\n" % quarantine +
            "output:\n  flows: true\n  file:\n    path: %s\n" % out +
            "  stats_interval: 1s\n" +
            "privileges:\n  user: %s\n" % user.pw_name)
    a = Agent(tmp, "full", text, ns=ns_a)
    try:
        a.wait_dropped()
        ok = a.p.poll() is None
        vt.check("full: running after the drop", ok, a.stderr()[-1500:])
        if not ok:
            return
        st = vt.proc_status(a.p.pid)
        vt.check("full: /proc/PID is the agent",
                 st.get("Name") == "vigil-agent", st.get("Name"))
        check_ids("full", st, user)
        check_caps("full", st,
                   mask(CAP_NET_RAW, CAP_DAC_READ_SEARCH))
        vt.check("full: the log line names the user and the capabilities",
                 ("privileges: user %s (uid %d)" %
                  (user.pw_name, user.pw_uid)) in a.stderr() and
                 "cap_dac_read_search,cap_net_raw"
                 in a.stderr(), a.stderr()[-800:])
        vt.check("full: the output file was made for the user",
                 os.path.exists(out) and
                 os.stat(out).st_uid == user.pw_uid, out)
        vt.check("full: the quarantine folder was made for the user",
                 os.path.isdir(quarantine) and
                 os.stat(quarantine).st_uid == user.pw_uid and
                 (os.stat(quarantine).st_mode & 0o777) == 0o700)
        vt.check("full: the control socket is served, in the test's folder",
                 vt.wait_for(lambda: os.path.exists(a.sock), 10) and
                 "control: listening on " + a.sock in a.stderr(),
                 a.stderr()[-800:])

        # Packets after the drop. (30: DPI gives a UDP flow up after 24,
        # so the rules are evaluated without waiting for a timeout.)
        vt.wait_for(lambda: last_stats(out) is not None, 15)
        send_udp(ns_b, 30, "10.203.0.1")
        alerts = vt.wait_for(lambda: [
            e for e in events(out) if e.get("event_type") == "alert" and
            e["alert"]["signature_id"] == 3000101], 15)
        vt.check("full: packets captured after the drop fire the rule",
                 len(alerts) == 1 and alerts[0]["src_ip"] == "10.203.0.2",
                 alerts)

        # A file only root may read, in a folder only root may enter.
        secret = os.path.join(watch, "upload.php")
        vt.write(secret, "<?php " + MARK + " ?>\n")
        os.chmod(secret, 0o600)
        hits = vt.wait_for(lambda: [
            e for e in events(out) if e.get("event_type") in
            ("fileinfo", "alert") and
            (e.get("fileinfo", {}).get("filename") == secret or
             MARK in json.dumps(e) or "Vigil_Privdrop_Test" in json.dumps(e))
        ], 20)
        vt.check("full: a root-only file is still scanned and matched",
                 bool(hits), a.stderr()[-800:])

        # SIGHUP: the rules are read again, as the user.
        vt.write(rules, vt.udp_rule(3000101, "one", PORT) +
                 vt.udp_rule(3000102, "two", PORT))
        os.chmod(rules, 0o644)
        a.p.send_signal(signal.SIGHUP)
        vt.wait_for(lambda: "reloaded:" in a.stderr() or
                    "reload failed" in a.stderr(), 15)
        vt.check("full: SIGHUP reload works after the drop",
                 "reloaded:" in a.stderr() and
                 "reload failed" not in a.stderr(), a.stderr()[-800:])
        st = vt.wait_for(lambda: (lambda s: s if s and
                                  s["detect"]["reloads"] == 1 else None)(
            last_stats(out)), 15)
        vt.check("full: the reload is counted", st is not None)
        send_udp(ns_b, 30, "10.203.0.1")
        two = vt.wait_for(lambda: [
            e for e in events(out) if e.get("event_type") == "alert" and
            e["alert"]["signature_id"] == 3000102], 15)
        vt.check("full: the reloaded rule fires", bool(two),
                 [e.get("alert") for e in events(out)
                  if e.get("event_type") == "alert"])
        st = vt.proc_status(a.p.pid)
        check_caps("full after reload", st,
                   mask(CAP_NET_RAW, CAP_DAC_READ_SEARCH))
    finally:
        rc = a.stop()
    vt.check("full: SIGTERM stops it with status 0", rc == 0, rc)
    # Both flows end at the shutdown, every packet in them.
    flows = [e for e in events(out) if e.get("event_type") == "flow" and
             e.get("dest_port") == PORT and e.get("src_ip") == "10.203.0.2"]
    vt.check("full: both flows, 30 packets each, in the flow events",
             len(flows) == 2 and
             all(f["flow"]["pkts_toserver"] == 30 for f in flows),
             [f.get("flow") for f in flows])
    st = last_stats(out)
    vt.check("full: the last stats event counts the 60 packets",
             st is not None and st["capture"]["packets"] >= 60 and
             st["detect"]["reloads"] == 1,
             json.dumps(st)[:600] if st else None)


def test_capture_only(tmp, user, ns_a):
    text = ("capture:\n  interfaces:\n    - name: va\n"
            "      promiscuous: false\n"
            "output:\n  file:\n    path: %s\n" % os.path.join(tmp, "c.json")
            + "privileges:\n  user: %s\n" % user.pw_name)
    a = Agent(tmp, "capture", text, ns=ns_a)
    try:
        a.wait_dropped()
        ok = a.p.poll() is None
        vt.check("capture only: running", ok, a.stderr()[-800:])
        if ok:
            st = vt.proc_status(a.p.pid)
            check_ids("capture only", st, user)
            check_caps("capture only", st, mask(CAP_NET_RAW))
    finally:
        a.stop()


def test_files_only(tmp, user):
    watch = os.path.join(tmp, "w2")
    os.makedirs(watch)
    text = ("files:\n  watch: [%s]\n  schedule: 0\n" % watch +
            "output:\n  file:\n    path: %s\n" % os.path.join(tmp, "f.json")
            + "privileges:\n  user: %s\n" % user.pw_name)
    a = Agent(tmp, "files", text)
    try:
        a.wait_dropped()
        ok = a.p.poll() is None
        vt.check("files only: running", ok, a.stderr()[-800:])
        if ok:
            st = vt.proc_status(a.p.pid)
            check_ids("files only", st, user)
            check_caps("files only", st, mask(CAP_DAC_READ_SEARCH))
    finally:
        a.stop()


def test_bundle_dir(tmp, user):
    """rules.bundle.dir is made for the user before the drop: the poller
    writes the versions it brings there afterwards. (Files only, and no
    Redis to answer: the folder is all this looks at.)"""
    collector = os.path.join(os.path.dirname(AGENT), "vigil-collector")
    if not os.access(collector, os.X_OK):
        print("skip  rules.bundle.dir (no vigil-collector beside the agent)")
        return
    key = os.path.join(tmp, "center")
    r = subprocess.run([collector, "rules", "keygen", "--out", key],
                       capture_output=True, text=True, timeout=60)
    vt.check("bundle dir: keygen", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return
    watch = os.path.join(tmp, "w3")
    os.makedirs(watch)
    bdir = os.path.join(tmp, "bundle")
    text = ("files:\n  watch: [%s]\n  schedule: 0\n" % watch +
            "output:\n  file:\n    path: %s\n" % os.path.join(tmp, "b.json")
            + "  redis:\n    url: redis://127.0.0.1:%d\n" % vt.free_port()
            + "  spool:\n    dir: %s\n" % os.path.join(tmp, "b-spool") +
            "rules:\n  bundle:\n    public_key: %s.pub\n" % key +
            "    dir: %s\n" % bdir +
            "privileges:\n  user: %s\n" % user.pw_name)
    a = Agent(tmp, "bundle", text)
    try:
        a.wait_dropped()
        ok = a.p.poll() is None
        vt.check("bundle dir: running", ok, a.stderr()[-800:])
        if ok:
            vt.check("bundle dir: rules.bundle.dir was made for the user",
                     os.path.isdir(bdir) and
                     os.stat(bdir).st_uid == user.pw_uid,
                     os.path.isdir(bdir) and os.stat(bdir).st_uid)
    finally:
        a.stop()


def test_allow_root(tmp, ns_a):
    text = ("capture:\n  interfaces:\n    - name: va\n"
            "      promiscuous: false\n"
            "output:\n  file:\n    path: %s\n" % os.path.join(tmp, "r.json")
            + "privileges:\n  user: vigil-none-%s\n" % secrets.token_hex(3))
    a = Agent(tmp, "root", text, ns=ns_a, extra=["--allow-root"])
    try:
        a.wait_dropped()
        ok = a.p.poll() is None
        vt.check("--allow-root: running", ok, a.stderr()[-800:])
        if ok:
            st = vt.proc_status(a.p.pid)
            vt.check("--allow-root: stays uid 0",
                     st.get("Uid", "").split() == ["0"] * 4, st.get("Uid"))
            check_caps("--allow-root", st, mask(CAP_NET_RAW))
    finally:
        a.stop()


def test_refused(tmp):
    ghost = "vigil-none-" + secrets.token_hex(3)
    cfg = vt.write(os.path.join(tmp, "ghost.yaml"),
                   "capture:\n  interfaces:\n    - name: lo\n"
                   "privileges:\n  allow_root: false\n"
                   "  user: %s\n" % ghost)
    r = subprocess.run([AGENT, "run", "-c", cfg], capture_output=True,
                       text=True, timeout=60)
    vt.check("no such user: refused to start", r.returncode != 0,
             r.returncode)
    vt.check("no such user: the error names file, line and key",
             '%s:6: privileges.user: no such user "%s"' % (cfg, ghost)
             in r.stderr, r.stderr[-800:])
    vt.check("no such user: nothing started",
             "running" not in r.stderr, r.stderr[-800:])
    cfg = vt.write(os.path.join(tmp, "rootuser.yaml"),
                   "capture:\n  interfaces:\n    - name: lo\n"
                   "privileges:\n  user: root\n")
    r = subprocess.run([AGENT, "run", "-c", cfg], capture_output=True,
                       text=True, timeout=60)
    vt.check("user root without allow_root: refused",
             r.returncode != 0 and
             "%s:5: privileges.user: \"root\" is root" % cfg in r.stderr,
             r.stderr[-800:])


def main():
    if os.geteuid() != 0:
        print("skip  privilege drop (needs root)")
        return 0
    tag = secrets.token_hex(3)
    ns_a, ns_b = "vigil-pd-a-" + tag, "vigil-pd-b-" + tag
    tmp = tempfile.mkdtemp(prefix="vigil-privdrop-")
    # The user reads the configuration and rules again on SIGHUP.
    os.chmod(tmp, 0o755)
    user, created = None, False
    try:
        user, created = make_user()
        sh("ip", "netns", "add", ns_a)
        sh("ip", "netns", "add", ns_b)
        sh("ip", "-n", ns_a, "link", "add", "va", "type", "veth", "peer",
           "name", "vb", "netns", ns_b)
        sh("ip", "-n", ns_a, "addr", "add", "10.203.0.1/24", "dev", "va")
        sh("ip", "-n", ns_b, "addr", "add", "10.203.0.2/24", "dev", "vb")
        for ns, dev in ((ns_a, "va"), (ns_b, "vb")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        test_full(tmp, user, ns_a, ns_b)
        test_capture_only(tmp, user, ns_a)
        test_files_only(tmp, user)
        test_bundle_dir(tmp, user)
        test_allow_root(tmp, ns_a)
        test_refused(tmp)
    finally:
        vt.cleanup()
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if created:
            subprocess.run(["userdel", user.pw_name], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return vt.summary()


if __name__ == "__main__":
    sys.exit(main())
