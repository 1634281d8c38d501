# SPDX-License-Identifier: Apache-2.0
"""What the integration tests share: the pass/fail tally, free loopback
ports, waiting, stopping processes, and a redis-server of the test's own
(in its folder, on 127.0.0.1 and a Unix socket, stopped by pid).

Not a test of its own; imported by the scripts in this folder.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

results = {"passed": 0, "failed": 0}
procs = []  # every process started here or registered: killed by cleanup()


def check(name, cond, detail=""):
    if cond:
        results["passed"] += 1
        print("ok    " + name)
    else:
        results["failed"] += 1
        print("FAIL  %s %s" % (name, str(detail)[:2000]))
    sys.stdout.flush()


def summary():
    """Print the closing line; the exit status for the script."""
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(fn, timeout=10.0, step=0.1):
    """Poll fn until it returns something true; its last value."""
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(step)
        v = fn()
    return v


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    return path


def stop(p, timeout=10):
    """SIGTERM, then SIGKILL past timeout; the exit status."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def proc_status(pid):
    """/proc/PID/status as a dict of its fields ({} once it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def check_sandboxed(name, st, bounding=True):
    """A sandboxed child's status: no capability in any set (the bounding
    set only when bounding), no_new_privs, a seccomp filter."""
    for k in ("CapEff", "CapPrm", "CapInh", "CapAmb") + (
            ("CapBnd",) if bounding else ()):
        check("%s: %s is zero" % (name, k),
              st.get(k) == "0000000000000000", st.get(k))
    check(name + ": NoNewPrivs 1", st.get("NoNewPrivs") == "1",
          st.get("NoNewPrivs"))
    check(name + ": Seccomp 2 (filter)", st.get("Seccomp") == "2",
          st.get("Seccomp"))


def read_events(path):
    """The EVE events of a file the agent may still be writing: a line
    being written (not JSON yet) is left out, a missing file is empty."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def wait_events(path, pred, timeout=20.0):
    """Read the EVE file at path until pred(events) holds (or timeout);
    the events last read."""
    end = time.time() + timeout
    evs = []
    while time.time() < end:
        evs = read_events(path)
        if pred(evs):
            return evs
        time.sleep(0.2)
    return evs


def sids(evs):
    """The signature ids of the alerts among evs, in order."""
    return [e["alert"]["signature_id"] for e in evs
            if e.get("event_type") == "alert" and "signature_id" in
            e.get("alert", {})]


def udp_rule(sid, name, port, severity="low"):
    """A network rule (YAML) alerting on UDP to port."""
    return ("- id: %d\n  name: %s\n  category: Test\n  severity: %s\n"
            "  mitre: [T1046]\n  match:\n    transport: udp\n"
            "    dst_port: %d\n" % (sid, name, severity, port))


def last_stats(path):
    """The stats object of the newest stats event in path, or None."""
    st = [e["stats"] for e in read_events(path)
          if e.get("event_type") == "stats"]
    return st[-1] if st else None


class Redis:
    """A redis-server of the test's own. tls: {"cert", "key", "ca"} for a
    TLS-only TCP port; auth: (user, password) for redis-cli; appendonly
    keeps the data across stop() and start()."""

    def __init__(self, tmp, name="redis", extra=(), port=None, tls=None,
                 auth=None, appendonly=False):
        self.dir = os.path.join(tmp, "redis-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.sock = os.path.join(self.dir, "redis.sock")
        self.auth = auth
        self.args = ["redis-server", "--bind", "127.0.0.1",
                     "--dir", self.dir, "--unixsocket", self.sock,
                     "--unixsocketperm", "700", "--save", "",
                     "--daemonize", "no",
                     "--logfile", os.path.join(self.dir, "log")]
        self.args += (["--appendonly", "yes", "--appendfsync", "always"]
                      if appendonly else ["--appendonly", "no"])
        if tls:
            self.args += ["--port", "0", "--tls-port", str(self.port),
                          "--tls-cert-file", tls["cert"],
                          "--tls-key-file", tls["key"],
                          "--tls-ca-cert-file", tls["ca"],
                          "--tls-auth-clients", "no"]
        else:
            self.args += ["--port", str(self.port)]
        self.args += list(extra)
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(self.p)
        for _ in range(200):
            if os.path.exists(self.sock) and self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start: " + self.log())

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(30)

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def auth_args(self):
        return ["--user", self.auth[0], "--pass", self.auth[1]] \
            if self.auth else []

    def cli(self, *args, raw=False):
        """A command over the Unix socket (no TLS in the way)."""
        r = subprocess.run(["redis-cli", "-s", self.sock, "--no-auth-warning"]
                           + self.auth_args() + (["--raw"] if raw else [])
                           + list(args),
                           capture_output=True, text=True, timeout=60)
        return r.stdout.strip()

    def xadd(self, key, ev, line=None):
        """One entry as the agent writes it: type, id and eve."""
        self.cli("XADD", key, "*", "type", ev["event_type"],
                 "id", ev["vigil"]["event_id"],
                 "eve", line or json.dumps(ev, separators=(",", ":")))

    def pending(self, key, group="vigil-collectors"):
        out = self.cli("XPENDING", key, group).split("\n")
        try:
            return int(out[0])
        except ValueError:
            return -1

    def entries(self, key):
        """Every entry of the stream: (id, {field: value})."""
        out = []
        last = "-"
        while True:
            r = subprocess.run(["redis-cli", "-s", self.sock, "--json",
                                "--no-auth-warning"] + self.auth_args() +
                               ["XRANGE", key, last, "+", "COUNT", "5000"],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0 or not r.stdout.strip():
                break
            batch = json.loads(r.stdout)
            if last != "-":
                batch = batch[1:]
            if not batch:
                break
            for eid, kv in batch:
                out.append((eid, dict(zip(kv[0::2], kv[1::2]))))
            last = batch[-1][0]
        return out
