#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The file scanner end to end, through the command line.

`vigil-agent scan`: events and exit codes, the same verdicts as the yara
command, symbolic links never followed, size and exclude limits, compiler
errors with file and line; quarantine and restore of a file, exactly.

`vigil-agent run` watching folders: files written by cp, moved in by mv,
written slowly and written in several sessions are each scanned once;
files created in a new folder before its watch was placed are found; a
matching file is quarantined (across two filesystems when root can mount
a tmpfs) and restored byte for byte; SIGHUP with a broken YARA file keeps
the running rules and reports file:line, a good one is put in force; the
watch limit falls back to scheduled scans; an inotify queue overflow
rescans the trees.

usage: filescan.py AGENT SOURCE_DIR
"""
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, read_events, summary, wait_events  # noqa: E402

AGENT, SRC = sys.argv[1], sys.argv[2]

MARK = "VIGIL-TEST-MARKER-7f3a"
RULES = """rule Vigil_Test_Marker : test
{
    meta:
        description = "The test marker"
        severity = "high"
        mitre = "T1505.003"
        sid = 3999001
        category = "test"
    strings:
        $m = "%s"
    condition:
        $m
}
""" % MARK
RULES2 = RULES + """
rule Vigil_Test_Second
{
    meta:
        sid = 3999002
    strings:
        $s = "SECOND-MARKER-91c2"
    condition:
        $s
}
"""


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def agent(*args, timeout=120):
    return subprocess.run([AGENT] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def events_of(text):
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a line being written
    return out


def fileinfos(evs):
    return [e for e in evs if e.get("event_type") == "fileinfo"]


def names(evs):
    return sorted(e["fileinfo"]["filename"] for e in fileinfos(evs))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------------
# vigil-agent scan

def test_scan(tmp):
    rules = write(os.path.join(tmp, "rules", "test.yar"), RULES)
    tree = os.path.join(tmp, "tree")
    hit = write(os.path.join(tree, "up", "shell.php"),
                "<?php // " + MARK + "\n")
    write(os.path.join(tree, "up", "clean.txt"), "nothing here\n")
    odd = write(os.path.join(tree, "deep", "a", "b", "name with\nnewline"),
                "x" * 100 + MARK)
    write(os.path.join(tree, "big.bin"), MARK + "y" * 4096)
    write(os.path.join(tree, "skip.log"), MARK)
    outside = write(os.path.join(tmp, "outside", "secret.txt"), MARK)
    os.symlink(outside, os.path.join(tree, "up", "link.txt"))
    os.symlink(os.path.dirname(outside), os.path.join(tree, "linkdir"))
    cfg = write(os.path.join(tmp, "scan.yaml"),
                "files:\n  max_size: 2KiB\n  exclude: ['*.log']\n"
                "log:\n  level: warning\n")

    r = agent("scan", "-c", cfg, "--rules", rules, tree)
    check("scan: exit 1 when something matched", r.returncode == 1,
          "rc=%d %s" % (r.returncode, r.stderr))
    evs = events_of(r.stdout)
    check("scan: the two matching files, no link followed, size and "
          "exclude limits kept", names(evs) == sorted([hit, odd]),
          str(names(evs)))
    fi = [e for e in fileinfos(evs) if e["fileinfo"]["filename"] == hit]
    if fi:
        f = fi[0]["fileinfo"]
        check("scan: fileinfo size and sha256 are the file's",
              f["size"] == os.path.getsize(hit) and
              f["sha256"] == sha256(hit), str(f))
        m = f["yara"][0]
        check("scan: the match names rule, meta, string and offset",
              m["rule"] == "Vigil_Test_Marker" and
              m["meta"]["sid"] == 3999001 and
              m["strings"] == [{"id": "$m", "count": 1, "offsets": [9]}],
              str(m))
        check("scan: no matched bytes in the event", MARK not in
              json.dumps(fi[0]), "")
    alerts = [e for e in evs if e.get("event_type") == "alert"]
    check("scan: one alert per matching file", len(alerts) == 2,
          str(len(alerts)))
    if alerts:
        a = alerts[0]["alert"]
        check("scan: the alert carries the rule's metadata",
              a["signature"] == "Vigil_Test_Marker" and
              a["signature_id"] == 3999001 and a["severity"] == 1 and
              a["category"] == "test" and
              a["metadata"]["mitre_technique_id"] == ["T1505.003"] and
              "fileinfo" in alerts[0], str(alerts[0]))

    # The same verdicts as the yara command (without the files Vigil is
    # told to skip, and without following links, which yara -r does).
    y = subprocess.run(["yara", "-r", "-N", rules, tree],
                       capture_output=True, text=True)
    yfiles = []
    for line in y.stdout.splitlines():
        if line.startswith("Vigil_Test_Marker "):
            yfiles.append(line.split(" ", 1)[1])
        elif yfiles:  # the rest of a name with a newline in it
            yfiles[-1] += "\n" + line
    want = sorted(p for p in yfiles
                  if not p.endswith(".log") and not p.endswith("big.bin"))
    check("scan: same matched files as yara -r -N", want == names(evs),
          "%s vs %s" % (want, names(evs)))

    r = agent("scan", "-c", cfg, "--rules", rules,
              os.path.join(tree, "up", "clean.txt"))
    check("scan: exit 0 and no event on a clean file",
          r.returncode == 0 and r.stdout == "", "rc=%d" % r.returncode)
    r = agent("scan", "-c", cfg, "--rules", rules,
              os.path.join(tmp, "no-such-file"))
    check("scan: exit 2 on a missing path", r.returncode == 2,
          "rc=%d" % r.returncode)
    bad = write(os.path.join(tmp, "rules", "bad.yar"),
                "rule Broken {\n  strings:\n    $a = \"x\"\n"
                "  condition:\n    $a and nosuch\n}\n")
    r = agent("scan", "-c", cfg, "--rules", bad, tree)
    check("scan: a broken rule file: exit 2, FILE:LINE: error",
          r.returncode == 2 and (bad + ":5: error:") in r.stderr
          and "nosuch" in r.stderr, r.stderr)
    r = agent("check", "-c", write(os.path.join(tmp, "check.yaml"),
                                   "files:\n  rules: [%s]\n" % bad))
    check("check: validates the YARA rules too", r.returncode != 0 and
          (bad + ":5: error:") in r.stderr, r.stderr)

    # A file whose SHA-256 is in an IoC list (detection.ioc, type sha256)
    # is reported like a match; files.hash all reports every file.
    clean = os.path.join(tree, "up", "clean.txt")
    ioc = write(os.path.join(tmp, "hashes.txt"),
                "# known bad\n%s\n" % sha256(clean).upper())
    cfg2 = write(os.path.join(tmp, "scan-ioc.yaml"),
                 "detection:\n  ioc:\n    - {name: bad-files, type: sha256, "
                 "path: %s}\nlog:\n  level: warning\n" % ioc)
    r = agent("scan", "-c", cfg2, "--rules", rules, clean)
    evs = events_of(r.stdout)
    al = [e for e in evs if e.get("event_type") == "alert"]
    check("scan: a listed SHA-256 alerts (exit 1, sid 3000001, the list)",
          r.returncode == 1 and len(al) == 1 and
          al[0]["alert"]["signature_id"] == 3000001 and
          al[0]["fileinfo"]["ioc_list"] == "bad-files" and
          al[0]["fileinfo"]["sha256"] == sha256(clean), r.stdout + r.stderr)
    bad_ioc = write(os.path.join(tmp, "hashes-bad.txt"), "not-a-hash\n")
    cfg3 = write(os.path.join(tmp, "scan-ioc-bad.yaml"),
                 "detection:\n  ioc:\n    - {name: bad-files, type: sha256, "
                 "path: %s}\n" % bad_ioc)
    r = agent("scan", "-c", cfg3, "--rules", rules, clean)
    check("scan: a broken IoC list is an error naming file and line",
          r.returncode == 2 and (bad_ioc + ":1:") in r.stderr, r.stderr)
    cfg4 = write(os.path.join(tmp, "scan-all.yaml"),
                 "files:\n  hash: all\nlog:\n  level: warning\n")
    r = agent("scan", "-c", cfg4, "--rules", rules, os.path.join(tree, "up"))
    evs = fileinfos(events_of(r.stdout))
    byname = {e["fileinfo"]["filename"]: e["fileinfo"] for e in evs}
    check("scan: files.hash all gives every file's fileinfo and hash",
          clean in byname and byname[clean]["sha256"] == sha256(clean) and
          "yara" not in byname[clean] and hit in byname and
          r.returncode == 1, str(sorted(byname)))

    # On demand with --quarantine, then restore.
    q = os.path.join(tmp, "q-scan")
    victim = write(os.path.join(tree, "up", "victim.php"),
                   "<?php /* " + MARK + " */\n", mode=0o640)
    os.utime(victim, ns=(1700000000123456789, 1700000001987654321))
    before = sha256(victim)
    r = agent("scan", "-c", cfg, "--rules", rules, "--quarantine", q, victim)
    check("scan --quarantine: moved away", r.returncode == 1 and
          not os.path.exists(victim), r.stderr)
    ev = fileinfos(events_of(r.stdout))
    qid = ev[0]["fileinfo"].get("quarantine", {}).get("id") if ev else None
    check("scan --quarantine: the event names the quarantine id",
          bool(qid), str(ev))
    r = agent("quarantine", "list", "--dir", q)
    check("quarantine list: shows the item with its path",
          r.returncode == 0 and qid and qid in r.stdout and
          victim in r.stdout, r.stdout + r.stderr)
    r = agent("quarantine", "restore", "--dir", q, str(qid))
    st = os.stat(victim) if os.path.exists(victim) else None
    check("quarantine restore: the exact bytes, mode and times are back",
          r.returncode == 0 and st is not None and
          sha256(victim) == before and stat.S_IMODE(st.st_mode) == 0o640
          and st.st_mtime_ns == 1700000001987654321,
          r.stdout + r.stderr)
    r = agent("quarantine", "list", "--dir", q)
    check("quarantine list: empty after the restore",
          r.returncode == 0 and (qid or "?") not in r.stdout, r.stdout)


# ---------------------------------------------------------------------
# vigil-agent run

class Daemon:
    def __init__(self, tmp, name, files_yaml):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.out = os.path.join(self.dir, "eve.json")
        self.cfg = write(os.path.join(self.dir, "agent.yaml"),
                         files_yaml + "output:\n  file: {path: %s}\n"
                         "  stats_interval: 1\nlog:\n  level: info\n"
                         % self.out)
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.p = subprocess.Popen([AGENT, "run", "--allow-root", "-c",
                                   self.cfg],
                                  stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        # Up once its first stats event is out: the watches are placed.
        wait_events(self.out, lambda evs: any(
            e.get("event_type") == "stats" for e in evs), 15)

    def events(self):
        return read_events(self.out)

    def stats(self):
        st = [e["stats"] for e in self.events()
              if e.get("event_type") == "stats"]
        return st[-1].get("files", {}) if st else {}

    def stderr(self):
        if self.err.closed:
            return self.err_text
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.err.closed:
            self.err_text = self.stderr()
            self.err.close()
        return self.p.returncode


def count_for(evs, path):
    return sum(1 for e in fileinfos(evs) if e["fileinfo"]["filename"] == path)


def test_watch(tmp, rules_dir):
    www = os.path.join(tmp, "www")
    stage = os.path.join(tmp, "stage")  # same filesystem, not watched
    os.makedirs(os.path.join(www, "uploads"))
    os.makedirs(stage)
    qdir = os.path.join(tmp, "quarantine")
    d = Daemon(tmp, "watch",
               "files:\n  watch: [%s]\n  rules: [%s]\n  settle: 1\n"
               "  schedule: 0\n  threads: 2\n" % (www, rules_dir))
    try:
        # cp
        src = write(os.path.join(stage, "cp-src.php"), "<?php " + MARK)
        cp_dst = os.path.join(www, "uploads", "cp.php")
        subprocess.run(["cp", src, cp_dst], check=True)
        # mv
        mv_src = write(os.path.join(stage, "mv.php"), "<?php " + MARK)
        mv_dst = os.path.join(www, "uploads", "mv.php")
        subprocess.run(["mv", mv_src, mv_dst], check=True)
        # a slow writer: one open, pauses between writes
        slow = os.path.join(www, "uploads", "slow.php")
        with open(slow, "w") as f:
            for part in ["<?php ", "/* upload ", MARK, " */\n"]:
                f.write(part)
                f.flush()
                time.sleep(0.4)
        # a file written in several sessions, closer together than settle
        multi = os.path.join(www, "uploads", "multi.php")
        for part in ["<?php ", MARK, "\n"]:
            with open(multi, "a") as f:
                f.write(part)
            time.sleep(0.3)
        # a clean file: scanned, not reported
        write(os.path.join(www, "uploads", "clean.txt"), "hello\n")
        # a new folder filled at once: files made before its watch
        deep = os.path.join(www, "new", "a", "b")
        os.makedirs(deep)
        early = write(os.path.join(deep, "early.php"), "<?php " + MARK)
        want = [cp_dst, mv_dst, slow, multi, early]
        evs = wait_events(d.out, lambda evs: all(count_for(evs, p) for p in want),
                          20)
        time.sleep(2.5)  # anything that would come twice has come
        evs = d.events()
        for p in want:
            check("run: %s reported once" % os.path.basename(p),
                  count_for(evs, p) == 1, "got %d" % count_for(evs, p))
        st = d.stats()
        check("run: the watcher's files were scanned once each "
              "(clean.txt included, nothing scanned twice)",
              st.get("scanned") == len(want) + 1, str(st))
        check("run: every folder is watched", st.get("watched_dirs") == 5,
              str(st))
        srcs = {e["fileinfo"]["source"] for e in fileinfos(evs)}
        check("run: reported as found by the watcher", srcs == {"watch"},
              str(srcs))

        # SIGHUP: a broken file is refused with its line, the old rules
        # stay; a good set adds a rule.
        broken = write(os.path.join(rules_dir, "zz-broken.yar"),
                       "rule Z {\n  condition:\n    nosuchthing\n}\n")
        d.p.send_signal(signal.SIGHUP)
        evs = wait_events(d.out, lambda evs: any(
            e.get("event_type") == "agent" and
            e["agent"]["status"] == "failed" for e in evs), 10)
        fail = [e for e in evs if e.get("event_type") == "agent" and
                e["agent"]["status"] == "failed"]
        check("reload: a broken YARA file is refused naming file:line",
              fail and any((broken + ":3: error:") in m
                           for m in fail[0]["agent"]["messages"]),
              str(fail))
        after = write(os.path.join(www, "uploads", "after.php"), MARK)
        evs = wait_events(d.out, lambda evs: count_for(evs, after) == 1, 10)
        check("reload: the running rules stay in force",
              count_for(evs, after) == 1, "")
        os.unlink(broken)
        write(os.path.join(rules_dir, "test.yar"), RULES2)
        # As logrotate does: move the file away, then SIGHUP.
        os.rename(d.out, d.out + ".1")
        d.p.send_signal(signal.SIGHUP)
        evs = wait_events(d.out, lambda evs: any(
            e.get("event_type") == "agent" and
            e["agent"]["status"] == "ok" for e in evs), 10)
        second = write(os.path.join(www, "uploads", "second.txt"),
                       "SECOND-MARKER-91c2")
        evs = wait_events(d.out, lambda evs: count_for(evs, second) == 1, 10)
        hit = [e for e in fileinfos(evs)
               if e["fileinfo"]["filename"] == second]
        check("reload: the new rule is in force",
              hit and hit[0]["fileinfo"]["yara"][0]["rule"] ==
              "Vigil_Test_Second", str(hit))
        check("SIGHUP: the output file is reopened at its path, the old "
              "one keeps what was written before",
              count_for(read_events(d.out + ".1"), cp_dst) == 1 and
              count_for(evs, cp_dst) == 0, "")
    finally:
        rc = d.stop()
    check("run: stops cleanly on SIGTERM", rc == 0, "rc=%s %s" % (
        rc, d.stderr()[-400:]))


def mount_tmpfs(path):
    if os.geteuid() != 0:
        return False
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs",
                        path], capture_output=True)
    return r.returncode == 0


def test_quarantine(tmp, rules_dir):
    www = os.path.join(tmp, "qwww")
    os.makedirs(www)
    qdir = os.path.join(tmp, "qfs")
    other_fs = mount_tmpfs(qdir)
    if other_fs:
        check("quarantine: the folder is on another filesystem",
              os.stat(qdir).st_dev != os.stat(www).st_dev, "")
    else:
        print("skip  quarantine across filesystems (needs root)")
    d = Daemon(tmp, "quarantine",
               "files:\n  watch: [%s]\n  rules: [%s]\n  settle: 0\n"
               "  schedule: 0\n  quarantine: %s\n" % (www, rules_dir,
                                                      os.path.join(qdir,
                                                                   "q")))
    try:
        data = os.urandom(50000) + MARK.encode() + os.urandom(1000)
        stage = write(os.path.join(tmp, "qstage", "payload.bin"), data,
                      mode=0o751)
        if os.geteuid() == 0:
            os.chown(stage, 1234, 2345)
        os.utime(stage, ns=(1600000000111111111, 1600000002222222222))
        target = os.path.join(www, "payload.bin")
        # mv keeps owner, mode and times: what restore must bring back.
        shutil.move(stage, target)
        evs = wait_events(d.out, lambda evs: any(
            e.get("event_type") == "alert" for e in evs), 15)
        alerts = [e for e in evs if e.get("event_type") == "alert"]
        check("quarantine: the alert says blocked",
              alerts and alerts[0]["alert"]["action"] == "blocked",
              str(alerts[:1]))
        qid = alerts[0]["fileinfo"].get("quarantine", {}).get("id") \
            if alerts else None
        time.sleep(0.5)
        check("quarantine: the file is gone from the web root",
              not os.path.exists(target), "")
        qd = os.path.join(qdir, "q")
        kept = [n for n in os.listdir(qd)] if os.path.isdir(qd) else []
        check("quarantine: its data and record are kept, mode 0",
              any(n.endswith(".data") and
                  stat.S_IMODE(os.stat(os.path.join(qd, n)).st_mode) == 0
                  for n in kept) and any(n.endswith(".json") for n in kept),
              str(kept))
    finally:
        d.stop()
    r = agent("quarantine", "list", "-c", d.cfg)
    check("quarantine list -c: finds the folder from the configuration",
          r.returncode == 0 and qid is not None and qid in r.stdout,
          r.stdout + r.stderr)
    r = agent("quarantine", "restore", "-c", d.cfg, str(qid))
    ok = r.returncode == 0 and os.path.exists(target)
    if ok:
        st = os.stat(target)
        with open(target, "rb") as f:
            ok = f.read() == data and stat.S_IMODE(st.st_mode) == 0o751 \
                and st.st_mtime_ns == 1600000002222222222
        if os.geteuid() == 0:
            ok = ok and st.st_uid == 1234 and st.st_gid == 2345
    check("quarantine restore: bytes, owner, mode and mtime exactly",
          ok, r.stdout + r.stderr)
    r = agent("quarantine", "restore", "-c", d.cfg, "../../etc/passwd")
    check("quarantine restore: an id with a path in it is refused",
          r.returncode != 0, r.stdout)
    if other_fs:
        subprocess.run(["umount", "-l", qdir])


def test_limits(tmp, rules_dir):
    """The watch limit falls back to the schedule; an overflow rescans."""
    www = os.path.join(tmp, "lwww")
    for sub in ["a", "b", "c", "d"]:
        os.makedirs(os.path.join(www, sub))
    d = Daemon(tmp, "limit",
               "files:\n  watch: [%s]\n  rules: [%s]\n  settle: 0\n"
               "  schedule: 2\n  max_watches: 2\n" % (www, rules_dir))
    try:
        files = [write(os.path.join(www, sub, "x.php"), MARK)
                 for sub in ["a", "b", "c", "d"]]
        evs = wait_events(d.out, lambda evs: all(count_for(evs, p)
                                              for p in files), 15)
        check("watch limit: files in unwatched folders are still found",
              all(count_for(evs, p) == 1 for p in files),
              str([count_for(evs, p) for p in files]))
        st = d.stats()
        check("watch limit: counted", st.get("watch_limit", 0) >= 1 and
              st.get("watched_dirs") == 2, str(st))
        check("watch limit: a clear error in the log",
              "watch limit reached" in d.stderr(), d.stderr()[-300:])
        ag = [e for e in d.events() if e.get("event_type") == "agent" and
              e["agent"]["action"] == "watch"]
        check("watch limit: an agent event at error level for the center",
              ag and ag[0]["agent"]["level"] == "error" and
              "watch limit reached" in ag[0]["agent"]["messages"][0],
              str(ag))
        # Walks every 2 s: by the third, all four files were seen before.
        end = time.time() + 20
        st = d.stats()
        while st.get("full_scans", 0) < 3 and time.time() < end:
            time.sleep(0.5)
            st = d.stats()
        check("watch limit: scheduled walks skip unchanged files (verdict "
              "cache), nothing reported twice",
              st.get("cached", 0) >= 4 and st.get("full_scans", 0) >= 3 and
              all(count_for(d.events(), p) == 1 for p in files), str(st))
    finally:
        d.stop()

    if os.geteuid() != 0:
        print("skip  inotify overflow (needs root to lower the queue)")
        return
    knob = "/proc/sys/fs/inotify/max_queued_events"
    with open(knob) as f:
        saved = f.read().strip()
    www = os.path.join(tmp, "owww")
    os.makedirs(www)
    try:
        with open(knob, "w") as f:
            f.write("16")
        d = Daemon(tmp, "overflow",
                   "files:\n  watch: [%s]\n  rules: [%s]\n  settle: 0\n"
                   "  schedule: 0\n" % (www, rules_dir))
    finally:
        with open(knob, "w") as f:
            f.write(saved)
    try:
        # Stop the agent reading for a moment: SIGSTOP, then a burst.
        os.kill(d.p.pid, signal.SIGSTOP)
        files = [write(os.path.join(www, "f%03d.php" % i), MARK)
                 for i in range(200)]
        os.kill(d.p.pid, signal.SIGCONT)
        evs = wait_events(d.out, lambda evs: all(count_for(evs, p)
                                              for p in files), 30)
        found = sum(1 for p in files if count_for(evs, p))
        check("overflow: every file of the burst is found", found == 200,
              "%d of 200" % found)
        evs = wait_events(d.out, lambda evs: d.stats().get("overflows"), 5)
        check("overflow: counted and logged", d.stats().get("overflows", 0)
              >= 1 and "overflow" in d.stderr(), str(d.stats()))
    finally:
        d.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-filescan-")
    try:
        test_scan(tmp)
        rules_dir = os.path.join(tmp, "watch-rules")
        write(os.path.join(rules_dir, "test.yar"), RULES)
        test_watch(tmp, rules_dir)
        qrules = os.path.join(tmp, "q-rules")
        write(os.path.join(qrules, "test.yar"), RULES)
        test_quarantine(tmp, qrules)
        test_limits(tmp, qrules)
    finally:
        subprocess.run(["umount", "-l", os.path.join(tmp, "qfs")],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
