#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Privilege separation of the packet path (sandbox.packets).

usage: sandbox.py AGENT SOURCE_DIR

Needs root (CI runs as root); skipped otherwise. Two network namespaces
joined by a veth pair: the agent runs in the first, capturing its end; UDP
packets are sent from the second, so no traffic leaves the namespaces.

One agent is started with VIGIL_TEST_SANDBOX_FORBIDDEN=openat, which makes
its first packet child call openat() once its seccomp filter is in force:

- that child dies by SIGSYS; the parent logs it, emits an "agent" event
  (action "sandbox", level error), counts it (stats sandbox.restarts 1,
  sandbox.last_signal 31) and starts another child;
- the new child's /proc/PID/status: CapEff, CapPrm, CapBnd, CapInh and
  CapAmb zero, NoNewPrivs 1, Seccomp 2; it holds no file but its capture
  socket, the socketpair, stdio and pcap's eventfd;
- packets sent after the restart raise the rule's alert, written by the
  parent to the output file, and the capture counters reach the stats;
- SIGHUP with a new rule: the child is restarted (another pid, not
  counted as a crash), the flow it had ends with reason "reload", and
  the new rule fires;
- SIGTERM: status 0, no child left.

Then with sandbox.packets: false the agent has no child and alerts all
the same.
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigiltest as vt  # noqa: E402

events = vt.read_events
last_stats = vt.last_stats

AGENT, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
PORT = 40997
SIGSYS = 31


def sh(*args, ns=None, check=True):
    argv = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alerts(path, sid):
    return [e for e in events(path) if e.get("event_type") == "alert" and
            e["alert"]["signature_id"] == sid]


def send_udp(ns, n, dst, sport):
    code = ("import socket,time\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.bind(('', %d))\n"
            "for i in range(%d):\n"
            "    s.sendto(b'sandbox %%d' %% i, ('%s', %d))\n"
            "    time.sleep(0.005)\n" % (sport, n, dst, PORT))
    sh(sys.executable, "-c", code, ns=ns)


def config(tmp, name, rules, out, sandbox):
    return vt.write(os.path.join(tmp, name + ".yaml"), (
        "capture:\n  interfaces:\n    - name: va\n"
        "      bpf: udp port %d\n      immediate: true\n" % PORT +
        "workers: 1\n"
        "flows:\n  idle_timeout: 30s\n  dpi_idle_timeout: 1s\n"
        "detection:\n  rules: [%s]\n  ioc: []\n" % rules +
        "output:\n  flows: true\n  file:\n    path: %s\n" % out +
        "  stats_interval: 1s\n"
        "privileges:\n  allow_root: true\n"
        "control:\n  socket: %s\n" % os.path.join(tmp, name + ".sock") +
        "sandbox:\n  packets: %s\n" % ("true" if sandbox else "false")))


class Agent:
    def __init__(self, tmp, name, cfg, ns, env=None):
        self.errpath = os.path.join(tmp, name + ".stderr")
        self.err = open(self.errpath, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, AGENT, "run", "-c", cfg],
            stdout=subprocess.DEVNULL, stderr=self.err, env=e)
        vt.procs.append(self.p)

    def stderr(self):
        self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def stop(self):
        rc = vt.stop(self.p)
        self.err.close()
        return rc


def check_locked(name, pid):
    st = vt.proc_status(pid)
    vt.check(name + ": the child is vigil-agent",
             st.get("Name") == "vigil-agent", st.get("Name"))
    vt.check_sandboxed(name, st)
    # Nothing open but stdio, sockets and pcap's eventfd: no file.
    fds = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            fds[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
    except OSError:
        pass
    files = {fd: t for fd, t in fds.items() if fd > 2 and
             not t.startswith("socket:") and t != "anon_inode:[eventfd]"}
    vt.check(name + ": no file open beyond stdio and sockets",
             bool(fds) and not files, fds)


def test_sandboxed(tmp, ns_a, ns_b):
    rules = vt.write(os.path.join(tmp, "local.yaml"),
                     vt.udp_rule(3000201, "one", PORT))
    out = os.path.join(tmp, "eve.json")
    cfg = config(tmp, "sb", rules, out, True)
    a = Agent(tmp, "sb", cfg, ns_a,
              env={"VIGIL_TEST_SANDBOX_FORBIDDEN": "openat"})
    kids, kids2 = [], []
    try:
        st = vt.wait_for(lambda: (lambda s: s if s and s.get(
            "sandbox", {}).get("restarts") == 1 and
            s["sandbox"].get("child_pid") else None)(last_stats(out)), 20)
        vt.check("the forbidden call: one restart counted",
                 st is not None and st["sandbox"]["restarts"] == 1,
                 (last_stats(out) or {}).get("sandbox"))
        vt.check("the forbidden call: the child died by SIGSYS",
                 st is not None and
                 st["sandbox"]["last_signal"] == SIGSYS and
                 "died by signal 31" in a.stderr(), a.stderr()[-1200:])
        ev = [e for e in events(out) if e.get("event_type") == "agent" and
              e["agent"].get("action") == "sandbox"]
        vt.check("the forbidden call: an agent event at error level",
                 len(ev) == 1 and ev[0]["agent"]["level"] == "error" and
                 "signal 31" in json.dumps(ev[0]), ev)
        if st is None or a.p.poll() is not None:
            return
        kids = vt.wait_for(lambda: children(a.p.pid), 10) or []
        vt.check("one packet child", len(kids or []) == 1, kids)
        if not kids:
            return
        child = kids[0]
        vt.check("the stats name the child",
                 st["sandbox"]["child_pid"] == child, st["sandbox"])
        check_locked("restarted child", child)
        pst = vt.proc_status(a.p.pid)
        vt.check("the parent keeps CAP_NET_RAW to reopen captures",
                 int(pst.get("CapEff", "0"), 16) & (1 << 13) != 0,
                 pst.get("CapEff"))

        # Packets after the restart raise alerts through the parent.
        send_udp(ns_b, 30, "10.213.0.1", 41001)
        got = vt.wait_for(lambda: alerts(out, 3000201), 15)
        vt.check("packets after the restart fire the rule",
                 len(got or []) == 1 and got[0]["src_ip"] == "10.213.0.2",
                 got)
        st = vt.wait_for(lambda: (lambda s: s if s and
                                  s["capture"]["packets"] >= 30 and
                                  s["capture"]["kernel_packets"] >= 30
                                  else None)(last_stats(out)), 10)
        vt.check("the child's and the kernel's counters reach the stats",
                 st is not None, (last_stats(out) or {}).get("capture"))
        vt.check("nothing refused from the child",
                 (last_stats(out) or {}).get("sandbox", {})
                 .get("malformed") == 0)

        # Reload: a new child on the new rules.
        vt.write(rules, vt.udp_rule(3000201, "one", PORT) +
                 vt.udp_rule(3000202, "two", PORT))
        a.p.send_signal(signal.SIGHUP)
        vt.wait_for(lambda: "reloaded:" in a.stderr() or
                    "reload failed" in a.stderr(), 20)
        vt.check("reload works", "reloaded:" in a.stderr() and
                 "reload failed" not in a.stderr(), a.stderr()[-800:])
        flows = vt.wait_for(lambda: [
            e for e in events(out) if e.get("event_type") == "flow" and
            e.get("src_port") == 41001], 10)
        vt.check("the reload ended the child's flow with reason reload",
                 len(flows or []) == 1 and
                 flows[0]["flow"].get("reason") == "reload" and
                 flows[0]["flow"]["pkts_toserver"] == 30,
                 [f.get("flow") for f in flows or []])
        kids2 = vt.wait_for(lambda: [k for k in children(a.p.pid)
                                     if k != child], 10) or []
        vt.check("the reload restarted the child",
                 len(kids2 or []) == 1 and children(a.p.pid) == kids2,
                 (kids, children(a.p.pid)))
        if kids2:
            check_locked("child after reload", kids2[0])
        send_udp(ns_b, 30, "10.213.0.1", 41002)
        two = vt.wait_for(lambda: alerts(out, 3000202), 15)
        vt.check("the new rule fires in the new child",
                 len(two or []) == 1 and two[0]["src_port"] == 41002, two)
        st = vt.wait_for(lambda: (lambda s: s if s and
                                  s["detect"]["reloads"] == 1 and
                                  s["capture"]["packets"] >= 60
                                  else None)(last_stats(out)), 10)
        vt.check("a reload is not counted as a restart; counters add up",
                 st is not None and st["sandbox"]["restarts"] == 1,
                 (last_stats(out) or {}).get("sandbox"))
    finally:
        log = a.stderr()
        rc = a.stop()
    vt.check("SIGTERM: status 0", rc == 0, (rc, log[-800:]))
    gone = vt.wait_for(lambda: not any(
        os.path.exists("/proc/%d" % k) for k in kids + (kids2 or [])), 5)
    vt.check("SIGTERM: no child left", gone)
    last = [e for e in events(out) if e.get("event_type") == "flow" and
            e.get("src_port") == 41002]
    vt.check("SIGTERM: the new child's flow ended at shutdown",
             len(last) == 1 and last[0]["flow"]["reason"] == "shutdown",
             [f.get("flow") for f in last])


def test_unsandboxed(tmp, ns_a, ns_b):
    rules = vt.write(os.path.join(tmp, "plain-rules.yaml"),
                     vt.udp_rule(3000203, "p", PORT))
    out = os.path.join(tmp, "plain.json")
    cfg = config(tmp, "plain", rules, out, False)
    a = Agent(tmp, "plain", cfg, ns_a)
    try:
        st = vt.wait_for(lambda: last_stats(out), 15)
        vt.check("sandbox.packets false: no child, no sandbox counters",
                 st is not None and not children(a.p.pid) and
                 "sandbox" not in st, st and st.get("sandbox"))
        send_udp(ns_b, 30, "10.213.0.1", 41003)
        got = vt.wait_for(lambda: alerts(out, 3000203), 15)
        vt.check("sandbox.packets false: the rule fires", len(got or []) == 1,
                 got)
    finally:
        rc = a.stop()
    vt.check("sandbox.packets false: status 0", rc == 0, rc)


def main():
    if os.geteuid() != 0:
        print("skip  sandbox (needs root)")
        return 0
    tag = secrets.token_hex(3)
    ns_a, ns_b = "vigil-sb-a-" + tag, "vigil-sb-b-" + tag
    tmp = tempfile.mkdtemp(prefix="vigil-sandbox-")
    os.chmod(tmp, 0o755)
    try:
        sh("ip", "netns", "add", ns_a)
        sh("ip", "netns", "add", ns_b)
        sh("ip", "-n", ns_a, "link", "add", "va", "type", "veth", "peer",
           "name", "vb", "netns", ns_b)
        sh("ip", "-n", ns_a, "addr", "add", "10.213.0.1/24", "dev", "va")
        sh("ip", "-n", ns_b, "addr", "add", "10.213.0.2/24", "dev", "vb")
        for ns, dev in ((ns_a, "va"), (ns_b, "vb")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        test_sandboxed(tmp, ns_a, ns_b)
        test_unsandboxed(tmp, ns_a, ns_b)
    finally:
        vt.cleanup()
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return vt.summary()


if __name__ == "__main__":
    sys.exit(main())
