"""The runtime benchmark driven by scripts/bench-runtime.sh (standard library only)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, PM2 = sys.argv[1], sys.argv[2]
N = 100
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def children_of(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out


class Optimus:
    def __init__(self, sample_ms):
        self.data = tempfile.mkdtemp(prefix="optimus-bench-")
        self.port = free_port()
        env = dict(os.environ, OPTIMUS_DATA_DIR=self.data, OPTIMUS_BIND=f"127.0.0.1:{self.port}",
                   OPTIMUS_LOG="warn", OPTIMUS_API_RATE_PER_MINUTE="100000000",
                   OPTIMUS_SAMPLE_INTERVAL_MS=str(sample_ms))
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz")
                break
            except OSError:
                time.sleep(0.05)
        self.call("auth/setup", {"username": "bench", "password": "benchmark passphrase"}, token=False)
        self.token = self.call("auth/login", {"username": "bench", "password": "benchmark passphrase"}, token=False)["token"]

    def call(self, path, body, token=True):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        if token:
            req.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def project(self, files):
        folder = tempfile.mkdtemp(prefix="optimus-bench-project-")
        for name, text in files.items():
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
        return folder, self.call("projects/create", {"path": folder})["id"]

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def optimus_start_100():
    o = Optimus(sample_ms=1000)
    try:
        toml = "".join(f'[[services]]\nname = "s{i:03}"\ncommand = "exec sleep 100000"\n\n' for i in range(N))
        _, pid = o.project({"optimus.toml": toml})
        o.call("runtime/status", {"project_id": pid})
        t = time.monotonic()
        o.call("runtime/start", {"project_id": pid})
        while True:
            s = o.call("runtime/status", {"project_id": pid})["services"]
            if sum(1 for x in s if x["state"] == "ready") == N:
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - t
        time.sleep(10)
        server_kb = rss_kb(o.proc.pid)
        shims = [c for c in children_of(1) + children_of(o.proc.pid) if open(f"/proc/{c}/cmdline").read().startswith(BIN)]
        shim_kb = sum(rss_kb(c) for c in shims)
        # The sampler's cost: the server's CPU time over 60 s with 100 services (about 200
        # processes: a shim and a sleep each) sampled once a second.
        before = cpu_ticks(o.proc.pid)
        time.sleep(60)
        sampler_share = (cpu_ticks(o.proc.pid) - before) / TICKS / 60 * 100
        o.call("runtime/stop", {"project_id": pid})
        return elapsed, server_kb, shim_kb, len(shims), sampler_share
    finally:
        o.close()


def pm2_start_100():
    home = tempfile.mkdtemp(prefix="pm2-bench-")
    env = dict(os.environ, PM2_HOME=home)
    eco = os.path.join(home, "ecosystem.config.js")
    apps = ",".join(f'{{name:"s{i:03}",script:"sleep",args:"100000",interpreter:"none",autorestart:false}}' for i in range(N))
    with open(eco, "w") as f:
        f.write(f"module.exports = {{apps: [{apps}]}};")
    subprocess.run([PM2, "ping"], env=env, stdout=subprocess.DEVNULL, check=True)  # the daemon, started outside the timing
    try:
        t = time.monotonic()
        subprocess.run([PM2, "start", eco], env=env, stdout=subprocess.DEVNULL, check=True)
        while True:
            out = subprocess.run([PM2, "jlist"], env=env, capture_output=True, text=True).stdout
            procs = json.loads(out[out.index("["):]) if "[" in out else []
            if sum(1 for p in procs if p["pm2_env"]["status"] == "online") == N:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - t
        time.sleep(10)
        with open(os.path.join(home, "pm2.pid")) as f:
            daemon = int(f.read().strip())
        return elapsed, rss_kb(daemon)
    finally:
        subprocess.run([PM2, "kill"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


def log_throughput(lines=500_000):
    o = Optimus(sample_ms=2000)
    try:
        cmd = f"seq -f 'line %.0f of a noisy service printing as fast as it can' 1 {lines}"
        toml = f'[[services]]\nname = "noisy"\ncommand = "{cmd}"\nrestart = "never"\n'
        _, pid = o.project({"optimus.toml": toml})
        o.call("runtime/status", {"project_id": pid})
        t = time.monotonic()
        o.call("runtime/start", {"project_id": pid})
        while True:
            s = o.call("runtime/status", {"project_id": pid})["services"][0]
            if s["state"] in ("stopped", "crashed"):
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - t
        last = o.call("runtime/logs", {"project_id": pid, "service": "noisy", "tail": 1})["lines"]
        ok = last and last[0]["text"].startswith(f"line {lines} ")
        return lines / elapsed, elapsed, ok
    finally:
        o.close()


elapsed, server_kb, shim_kb, shims, sampler = optimus_start_100()
print(f"Optimus: {N} services started to ready in {elapsed*1000:.0f} ms")
print(f"Optimus: server RSS {server_kb/1024:.1f} MB with {N} running; {shims} log shims {shim_kb/1024:.1f} MB in all ({shim_kb/1024/max(shims,1):.2f} MB each)")
print(f"Optimus: sampler at 1 Hz over ~{2*N} processes: {sampler:.2f}% of one core (server CPU over 60 s)")
pm2_elapsed, pm2_kb = pm2_start_100()
print(f"PM2 5: {N} processes online in {pm2_elapsed*1000:.0f} ms; daemon RSS {pm2_kb/1024:.1f} MB")
print(f"ratio (PM2 / Optimus start time): {pm2_elapsed/elapsed:.2f}")
rate, took, ok = log_throughput()
print(f"log throughput: {rate:,.0f} lines/s captured, stored and tailed (500,000 lines in {took:.2f} s; last line stored: {ok})")
