#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Start and stop real Redis setups for the tests, in a folder of their own.

Every server listens on 127.0.0.1 or on a Unix socket inside DIR, never
anywhere else, runs in the foreground (--daemonize no, started here with
subprocess.Popen in a session of its own) and never saves (--save "").
What was started is described in DIR/servers.json, written after each
process starts, so that `stop` finds everything even when `start` failed
half-way. C tests read the file with jansson.

usage: servers.py start KIND DIR   KIND: plain tls acl cluster sentinel
       servers.py stop DIR         kill what DIR/servers.json lists
                                   (SIGTERM, SIGKILL after 5 s), remove DIR
       servers.py failover DIR     sentinel: SENTINEL FAILOVER mymaster,
                                   wait for the switch, print the new
                                   master's port
       servers.py kill DIR [NAME..]    SIGKILL those servers (all when no
                                       NAME), keep DIR and the JSON
       servers.py restart DIR [NAME..] start the dead ones again, same
                                       command line and port

servers.json, for every kind:
  kind, dir
  procs: [{name, pid, port, unix, tls, argv, log}]  one per process
and per kind:
  plain     port, unix, pid
  tls       port (--tls-auth-clients optional), port_mtls (yes), ca,
            ca_key, server_cert, server_key, client_cert, client_key,
            other_ca, other_ca_key
  acl       port, unix, acl_file, user, password, key
  cluster   ports [3], nodes [{port, id, pid}]
  sentinel  master_name, master_port, replica_port, sentinel_ports [3]

Anything that does not come up within TIMEOUT seconds is an error: a
message on stderr (with the end of the server's log) and exit status 1,
after the processes started so far were killed.
"""
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

TIMEOUT = 20.0
# A forced failover leaves the old master running; the sentinels turn it
# into a replica only after it has reported the wrong role for 8 s
# (SENTINEL_PUBLISH_PERIOD * 4), so the whole switch needs longer.
FAILOVER_TIMEOUT = 30.0
STATE = "servers.json"
MASTER = "mymaster"
ACL_USER, ACL_PASSWORD = "agency-a", "secret-a"
ACL_KEY = "vigil:events:{agency-a}"
KINDS = ("plain", "tls", "acl", "cluster", "sentinel")


class Fail(Exception):
    pass


class RespError(Exception):
    """An error reply (-ERR ...) from a server."""


# --------------------------------------------------------------------
# A small RESP2 client: readiness checks and set-up commands only.
# --------------------------------------------------------------------


class Conn:
    def __init__(self, port=None, unix=None, tls=None, timeout=2.0):
        if unix is not None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(unix)
            except OSError:
                s.close()
                raise
        else:
            s = socket.create_connection(("127.0.0.1", port), timeout)
        if tls is not None:
            ctx = ssl.create_default_context(cafile=tls["ca"])
            ctx.load_cert_chain(tls["client_cert"], tls["client_key"])
            try:
                s = ctx.wrap_socket(s, server_hostname="localhost")
            except OSError:
                s.close()
                raise
        self.s = s
        self.buf = b""

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._reply()

    def _fill(self):
        data = self.s.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RespError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._reply() for _ in range(n)]
        raise ConnectionError("bad reply %r" % line[:40])


def query(proc, *args, timeout=2.0):
    """One command to one of our processes (a fresh connection)."""
    with Conn(port=proc.get("port"), unix=None, tls=proc.get("tls"),
              timeout=timeout) as c:
        return c.cmd(*args)


def pairs(flat):
    """["k1", "v1", "k2", "v2"] -> {"k1": "v1", "k2": "v2"}"""
    return dict(zip(flat[0::2], flat[1::2]))


def info(proc, section):
    text = query(proc, "INFO", section)
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


# --------------------------------------------------------------------
# State file and processes
# --------------------------------------------------------------------


def state_path(d):
    return os.path.join(d, STATE)


def save(st):
    tmp = state_path(st["dir"]) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
        f.write("\n")
    os.rename(tmp, state_path(st["dir"]))


def load(d):
    with open(state_path(d)) as f:
        return json.load(f)


def alive(pid):
    """The process exists and is not a zombie (our servers are not our
    children once start has exited: init may be slow to reap them)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def ours(proc):
    """pid is still the redis-server we started (not a reused pid)."""
    try:
        with open("/proc/%d/cmdline" % proc["pid"], "rb") as f:
            return b"redis" in f.read()
    except OSError:
        return False


used_ports = set()


def free_port(bus=False):
    """A port nobody listens on now; with bus, port + 10000 too (the
    cluster bus). Picked at random below the ephemeral range."""
    for _ in range(500):
        p = random.randint(20000, 32000)
        if p in used_ports or (bus and p + 10000 in used_ports):
            continue
        socks = []
        try:
            for q in (p, p + 10000) if bus else (p,):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", q))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        used_ports.add(p)
        if bus:
            used_ports.add(p + 10000)
        return p
    raise Fail("no free port found")


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return "(no log: %s)\n" % e


def spawn(st, proc):
    """Start proc (its argv, log) and record its pid in the state file."""
    with open(proc["log"], "ab") as log:
        p = subprocess.Popen(proc["argv"], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT,
                             cwd=os.path.dirname(proc["log"]),
                             start_new_session=True)
    proc["pid"] = p.pid
    save(st)
    return p


def wait_until(what, fn, timeout=TIMEOUT, procs=()):
    """Call fn until it returns a true value; Fail after timeout or when
    one of procs has died. Returns fn's value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except (OSError, RespError, ValueError, KeyError, IndexError,
                TypeError) as e:
            last = e
        for p in procs:
            if not alive(p["pid"]):
                raise Fail("%s: %s (pid %d) exited; its log ends with:\n%s"
                           % (what, p["name"], p["pid"], tail(p["log"])))
        if time.monotonic() > deadline:
            logs = "".join("--- %s (%s)\n%s" % (p["name"], p["log"],
                                                 tail(p["log"]))
                           for p in procs)
            raise Fail("%s: not within %g s (last error: %s)\n%s"
                       % (what, timeout, last, logs))
        time.sleep(0.05)


def ping_ok(proc):
    if proc.get("unix") and not proc.get("port"):
        with Conn(unix=proc["unix"]) as c:
            return c.cmd("PING") == "PONG"
    return query(proc, "PING") == "PONG"


def redis_argv(d, port, extra=(), tls_port=False):
    """A redis-server command line bound to 127.0.0.1 only."""
    argv = ["redis-server", "--bind", "127.0.0.1", "--dir", d,
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", ""]
    if tls_port:
        argv += ["--port", "0", "--tls-port", str(port)]
    else:
        argv += ["--port", str(port)]
    return argv + list(extra)


def add_server(st, name, make, bus=False, unix=False, tls=None):
    """Start one redis-server: make(port, folder) gives its argv. A port
    taken in between is retried with another one."""
    d = os.path.join(st["dir"], name)
    os.makedirs(d, exist_ok=True)
    for attempt in range(3):
        port = free_port(bus)
        proc = {"name": name, "port": port, "tls": tls,
                "unix": os.path.join(d, "redis.sock") if unix else None,
                "argv": make(port, d), "log": os.path.join(d, "redis.log")}
        st["procs"].append(proc)
        spawn(st, proc)
        try:
            wait_until("%s on port %d" % (name, port),
                       lambda: ping_ok(proc), procs=[proc])
            if unix:
                wait_until("%s on %s" % (name, proc["unix"]),
                           lambda: ping_ok({"unix": proc["unix"]}),
                           procs=[proc])
            return proc
        except Fail:
            if attempt == 2 or alive(proc["pid"]) or \
               "in use" not in tail(proc["log"]):
                raise
            st["procs"].remove(proc)
            save(st)
    raise Fail("unreachable")


def unix_args(d):
    path = os.path.join(d, "redis.sock")
    if len(path.encode()) >= 100:
        raise Fail("socket path too long for sun_path: %s" % path)
    return ["--unixsocket", path, "--unixsocketperm", "700"]


# --------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------


def start_plain(st):
    p = add_server(st, "plain",
                   lambda port, d: redis_argv(d, port, unix_args(d)),
                   unix=True)
    st.update(port=p["port"], unix=p["unix"], pid=p["pid"])


def openssl(*args, cwd):
    r = subprocess.run(("openssl",) + args, cwd=cwd, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise Fail("openssl %s: %s" % (" ".join(args), r.stderr.strip()))


def make_ca(d, name, cn):
    openssl("req", "-x509", "-new", "-nodes", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def make_leaf(d, name, cn, ca, ext):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    openssl("req", "-new", "-nodes", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + cn, cwd=d)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
            "-out", name + ".crt", "-extfile", name + ".ext", cwd=d)


def start_tls(st):
    d = os.path.join(st["dir"], "certs")
    os.makedirs(d)
    make_ca(d, "ca", "Vigil test CA")
    make_ca(d, "other-ca", "Vigil unrelated CA")
    make_leaf(d, "server", "localhost", "ca",
              "basicConstraints=CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\n"
              "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    make_leaf(d, "client", "vigil-agent", "ca",
              "basicConstraints=CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=clientAuth\n")
    files = {k: os.path.join(d, v) for k, v in (
        ("ca", "ca.crt"), ("ca_key", "ca.key"),
        ("server_cert", "server.crt"), ("server_key", "server.key"),
        ("client_cert", "client.crt"), ("client_key", "client.key"),
        ("other_ca", "other-ca.crt"), ("other_ca_key", "other-ca.key"))}
    st.update(files)
    tls = {"ca": files["ca"], "client_cert": files["client_cert"],
           "client_key": files["client_key"]}

    def make(auth):
        return lambda port, sd: redis_argv(sd, port, [
            "--tls-cert-file", files["server_cert"],
            "--tls-key-file", files["server_key"],
            "--tls-ca-cert-file", files["ca"],
            "--tls-auth-clients", auth], tls_port=True)

    st["port"] = add_server(st, "tls", make("optional"), tls=tls)["port"]
    st["port_mtls"] = add_server(st, "mtls", make("yes"), tls=tls)["port"]


def start_acl(st):
    d = os.path.join(st["dir"], "acl")
    os.makedirs(d)
    acl = os.path.join(d, "users.acl")
    with open(acl, "w") as f:
        f.write("user default on nopass ~* &* +@all\n")
        f.write("user %s on >%s resetkeys ~%s resetchannels -@all "
                "+xadd +ping +auth +hello\n"
                % (ACL_USER, ACL_PASSWORD, ACL_KEY))
    p = add_server(st, "acl", lambda port, sd: redis_argv(
        sd, port, unix_args(sd) + ["--aclfile", acl]), unix=True)
    st.update(port=p["port"], unix=p["unix"], pid=p["pid"], acl_file=acl,
              user=ACL_USER, password=ACL_PASSWORD, key=ACL_KEY)


def start_cluster(st):
    nodes = []
    for i in range(3):
        name = "node%d" % (i + 1)
        nodes.append(add_server(st, name, lambda port, d: redis_argv(
            d, port, ["--cluster-enabled", "yes",
                      "--cluster-config-file", "nodes-%d.conf" % port,
                      "--cluster-node-timeout", "5000"]), bus=True))
    addrs = ["127.0.0.1:%d" % n["port"] for n in nodes]
    try:
        r = subprocess.run(["redis-cli", "--cluster", "create"] + addrs +
                           ["--cluster-replicas", "0", "--cluster-yes"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Fail("redis-cli --cluster create: not within %g s" % TIMEOUT)
    if r.returncode != 0:
        raise Fail("redis-cli --cluster create failed:\n%s%s"
                   % (r.stdout, r.stderr))

    def settled():
        for n in nodes:
            i = pairs_info(query(n, "CLUSTER", "INFO"))
            if i.get("cluster_state") != "ok" or \
               i.get("cluster_slots_ok") != "16384" or \
               i.get("cluster_known_nodes") != "3":
                return False
        return True

    wait_until("cluster_state:ok on all three nodes", settled, procs=nodes)
    st["ports"] = [n["port"] for n in nodes]
    st["nodes"] = [{"port": n["port"], "pid": n["pid"],
                    "id": query(n, "CLUSTER", "MYID")} for n in nodes]


def pairs_info(text):
    return dict(line.split(":", 1) for line in text.splitlines()
                if ":" in line)


def start_sentinel(st):
    master = add_server(st, "master",
                        lambda port, d: redis_argv(d, port))
    replica = add_server(st, "replica", lambda port, d: redis_argv(
        d, port, ["--replicaof", "127.0.0.1", str(master["port"])]))
    wait_until("replica in sync with the master",
               lambda: info(replica, "replication").get(
                   "master_link_status") == "up", procs=[master, replica])
    sentinels = []
    for i in range(3):
        name = "sentinel%d" % (i + 1)

        def make(port, d):
            conf = os.path.join(d, "sentinel.conf")
            with open(conf, "w") as f:
                f.write("bind 127.0.0.1\n"
                        "sentinel monitor %s 127.0.0.1 %d 2\n"
                        "sentinel down-after-milliseconds %s 1000\n"
                        "sentinel failover-timeout %s 5000\n"
                        % (MASTER, master["port"], MASTER, MASTER))
            return ["redis-server", conf, "--sentinel", "--port", str(port),
                    "--bind", "127.0.0.1", "--dir", d, "--save", "",
                    "--daemonize", "no", "--logfile", ""]

        sentinels.append(add_server(st, name, make))
    st.update(master_name=MASTER, master_port=master["port"],
              replica_port=replica["port"],
              sentinel_ports=[s["port"] for s in sentinels])
    save(st)
    everyone = [master, replica] + sentinels

    def knows(s):
        m = pairs(query(s, "SENTINEL", "MASTER", MASTER))
        if m.get("flags") != "master" or m.get("num-other-sentinels") != \
           "2" or m.get("num-slaves") != "1":
            return False
        for r in query(s, "SENTINEL", "REPLICAS", MASTER):
            r = pairs(r)
            if r.get("port") == str(replica["port"]) and \
               r.get("flags") == "slave" and \
               r.get("master-link-status") == "ok":
                return True
        return False

    for s in sentinels:
        wait_until("%s knows the master, the replica and the other "
                   "sentinels" % s["name"], lambda: knows(s), procs=everyone)


STARTERS = {"plain": start_plain, "tls": start_tls, "acl": start_acl,
            "cluster": start_cluster, "sentinel": start_sentinel}


# --------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------


def kill_procs(procs, grace):
    """SIGTERM (or SIGKILL when grace is 0), then SIGKILL after grace s;
    wait until they are gone."""
    live = [p for p in procs if p.get("pid") and alive(p["pid"]) and ours(p)]
    for p in live:
        try:
            os.kill(p["pid"], signal.SIGTERM if grace else signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while any(alive(p["pid"]) for p in live) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    for p in live:
        if alive(p["pid"]):
            try:
                os.kill(p["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    while any(alive(p["pid"]) for p in live):
        if time.monotonic() > deadline:
            raise Fail("pids %s do not die" %
                       [p["pid"] for p in live if alive(p["pid"])])
        time.sleep(0.05)


def cmd_start(kind, d):
    if kind not in KINDS:
        raise Fail("unknown kind %r (one of %s)" % (kind, " ".join(KINDS)))
    for prog in ("redis-server", "redis-cli", "openssl"):
        if shutil.which(prog) is None:
            raise Fail("%s not found in PATH: install redis-server, "
                       "redis-tools and openssl" % prog)
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    if os.path.exists(state_path(d)):
        raise Fail("%s already holds servers (stop it first)" % d)
    st = {"kind": kind, "dir": d, "procs": []}
    save(st)
    try:
        STARTERS[kind](st)
    except BaseException:
        kill_procs(st["procs"], 0)
        raise
    save(st)


def cmd_stop(d):
    if not os.path.isdir(d):
        return
    try:
        st = load(d)
    except (OSError, ValueError):
        st = {"procs": []}
    kill_procs(st.get("procs", []), 5)
    shutil.rmtree(d)


def select(st, names):
    procs = st["procs"]
    if not names:
        return procs
    byname = {p["name"]: p for p in procs}
    for n in names:
        if n not in byname:
            raise Fail("no server %r in %s (have %s)"
                       % (n, st["dir"], " ".join(byname)))
    return [byname[n] for n in names]


def cmd_kill(d, names):
    st = load(d)
    kill_procs(select(st, names), 0)


def cmd_restart(d, names):
    st = load(d)
    procs = [p for p in select(st, names) if not alive(p["pid"])]
    for p in procs:
        spawn(st, p)
    for p in procs:
        wait_until("%s on port %s again" % (p["name"], p["port"]),
                   lambda: ping_ok(p), procs=[p])
    if st["kind"] in ("plain", "acl"):
        st["pid"] = select(st, [st["kind"]])[0]["pid"]
    save(st)


def cmd_failover(d):
    st = load(d)
    if st.get("kind") != "sentinel":
        raise Fail("%s is not a sentinel setup" % d)
    byport = {p["port"]: p for p in st["procs"]}
    sentinels = [byport[p] for p in st["sentinel_ports"]]
    old = byport[st["master_port"]]
    new = byport[st["replica_port"]]
    everyone = [old, new] + sentinels

    def asked():
        try:
            return query(sentinels[0], "SENTINEL", "FAILOVER", MASTER) == "OK"
        except RespError as e:
            # NOGOODSLAVE until the sentinel has fresh INFO from the replica
            if "NOGOODSLAVE" in str(e) or "INPROG" in str(e):
                return False
            raise Fail("SENTINEL FAILOVER: %s" % e)

    wait_until("SENTINEL FAILOVER accepted", asked, procs=everyone)

    def switched():
        for s in sentinels:
            a = query(s, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
            if a != ["127.0.0.1", str(new["port"])]:
                return False
        return query(new, "ROLE")[0] == "master"

    wait_until("the sentinels report port %d as master" % new["port"],
               switched, timeout=FAILOVER_TIMEOUT, procs=everyone)
    # Also wait until the old master has been turned into a replica, so
    # that writes to it are refused (-READONLY) instead of being lost.
    wait_until("the old master (port %d) becomes a replica" % old["port"],
               lambda: query(old, "ROLE")[0] == "slave",
               timeout=FAILOVER_TIMEOUT, procs=everyone)
    st["master_port"], st["replica_port"] = new["port"], old["port"]
    save(st)
    print(new["port"])


def usage():
    sys.stderr.write(__doc__.split("\n\n")[2] + "\n")
    sys.exit(2)


def main(argv):
    if len(argv) < 3:
        usage()
    cmd = argv[1]
    try:
        if cmd == "start" and len(argv) == 4:
            cmd_start(argv[2], argv[3])
        elif cmd == "stop" and len(argv) == 3:
            cmd_stop(argv[2])
        elif cmd == "failover" and len(argv) == 3:
            cmd_failover(argv[2])
        elif cmd == "kill":
            cmd_kill(argv[2], argv[3:])
        elif cmd == "restart":
            cmd_restart(argv[2], argv[3:])
        else:
            usage()
    except Fail as e:
        sys.stderr.write("servers.py %s: %s\n" % (cmd, e))
        return 1
    except (OSError, ValueError) as e:
        sys.stderr.write("servers.py %s: %s\n" % (cmd, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
