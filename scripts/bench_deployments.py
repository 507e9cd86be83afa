"""The deployments benchmark driven by scripts/bench-deployments.sh (standard library + wrk, nginx).

1. Proxy overhead: one nginx serves a fixed 200 (the backend) and, on another port, proxies to
   it (keep-alive upstream); optimus-proxy proxies to the same backend. `wrk -t2 -c32` against
   each of the three; requests/s and p50/p99, and what each proxy adds to the backend's p99.
2. Zero failed requests: a release `optimus serve` deploys a small Python service (blue-green,
   watch 1 s) 20 times back to back while wrk loads its public port for 60 s (and a second wrk
   keeps ten 2 s requests under way); wrk's socket errors and non-2xx answers must be 0.
3. Automatic rollback: a release answering 500 gets traffic; the time from the answer that
   crosses the threshold (min_requests answered, max_5xx_percent reached) to the first answer
   of the release before.
4. Manual rollback to a kept release: from the request to `succeeded`, and to the first answer
   of that release.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import bench_common
from bench_common import Optimus, free_port

bench_common.BIN = sys.argv[1]
PROXY = os.path.join(os.path.dirname(sys.argv[1]), "optimus-proxy")
DURATION = int(os.environ.get("BENCH_SECONDS", "60"))
DEPLOYS = int(os.environ.get("BENCH_DEPLOYS", "20"))

SERVICE = r'''
import http.server, os, time
port = int(os.environ["PORT"])
version = open("version.txt").read().strip()
mode = open("mode.txt").read().strip() if os.path.exists("mode.txt") else "ok"
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(2)
        body = version.encode()
        self.send_response(500 if mode == "fail" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 512
S(("127.0.0.1", port), H).serve_forever()
'''


def wrk(url, seconds, connections=32, threads=2):
    # A 10 s timeout: wrk's default (2 s) would count the 2 s endpoint's answers as timeouts.
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", url],
                         capture_output=True, text=True).stdout
    def grab(pattern, default="0"):
        m = re.search(pattern, out)
        return m.group(1) if m else default
    def ms(text):
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(grab(r"(\d+) requests in")),
        "rps": float(grab(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": ms(grab(r"50%\s+([\d.]+\w+)", "0ms")),
        "p99_ms": ms(grab(r"99%\s+([\d.]+\w+)", "0ms")),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "non_2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)")),
    }


def proxy_overhead():
    work = tempfile.mkdtemp(prefix="optimus-bench-proxy-")
    backend, via_nginx, via_optimus = free_port(), free_port(), free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream backend {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{ listen 127.0.0.1:{backend}; location / {{ return 200 "ok\\n"; }} }}
  server {{
    listen 127.0.0.1:{via_nginx};
    location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    proxy_dir = os.path.join(work, "proxy")
    proxy = subprocess.Popen([PROXY, "--dir", proxy_dir], stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(proxy_dir, "control.sock")):
            break
        time.sleep(0.05)
    route = json.dumps({"listen": f"127.0.0.1:{via_optimus}", "target": f"127.0.0.1:{backend}"})
    subprocess.run(["curl", "-sf", "--unix-socket", os.path.join(proxy_dir, "control.sock"), "-X", "PUT",
                    "http://proxy/v1/routes/bench", "-d", route], check=True, capture_output=True)
    time.sleep(0.5)
    try:
        seconds = int(os.environ.get("BENCH_PROXY_SECONDS", "20"))
        direct = wrk(f"http://127.0.0.1:{backend}/", seconds)
        nginx_r = wrk(f"http://127.0.0.1:{via_nginx}/", seconds)
        optimus_r = wrk(f"http://127.0.0.1:{via_optimus}/", seconds)
    finally:
        proxy.terminate()
        nginx.terminate()
        proxy.wait()
        nginx.wait()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "backend_direct": direct,
        "nginx": nginx_r,
        "optimus_proxy": optimus_r,
        "nginx_added_p50_ms": round(nginx_r["p50_ms"] - direct["p50_ms"], 3),
        "optimus_added_p50_ms": round(optimus_r["p50_ms"] - direct["p50_ms"], 3),
        "nginx_added_p99_ms": round(nginx_r["p99_ms"] - direct["p99_ms"], 3),
        "optimus_added_p99_ms": round(optimus_r["p99_ms"] - direct["p99_ms"], 3),
        "optimus_rps_vs_nginx": round(optimus_r["rps"] / max(nginx_r["rps"], 1), 3),
    }


class Site:
    """A project with one Python service served on a public port."""

    def __init__(self, o, deploy):
        self.o = o
        self.folder = tempfile.mkdtemp(prefix="optimus-bench-site-")
        self.write("serve.py", SERVICE)
        self.write("version.txt", "v0")
        self.project = o.call("projects/create", {"path": self.folder})["id"]
        self.public = free_port()
        self.service = o.call("services/create", {"project_id": self.project, "definition": self.definition(deploy)})["id"]

    def definition(self, deploy):
        return {"name": "web", "command": "exec python3 serve.py", "allocate_port": True,
                "public_port": self.public, "deploy": deploy}

    def policy(self, deploy):
        self.o.call("services/update", {"id": self.service, "definition": self.definition(deploy)})

    def write(self, name, text):
        with open(os.path.join(self.folder, name), "w") as f:
            f.write(text)

    def deploy(self, body=None):
        d = self.o.call("deployments/deploy", {"project_id": self.project, **(body or {})})
        return self.wait(d["id"])

    def wait(self, deployment, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.o.call("deployments/get", {"id": deployment})
            if d["status"] in ("succeeded", "failed", "rolled_back"):
                return d
            time.sleep(0.05)
        raise RuntimeError(f"deployment {deployment} did not end")

    def get(self, path="/"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.public}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return 0, str(e)


def zero_failed_requests(o):
    site = Site(o, {"watch_secs": 1, "ready_passes": 2, "drain_secs": 5})
    first = site.deploy()
    assert first["status"] == "succeeded", first
    results = {}
    loads = [
        threading.Thread(target=lambda: results.__setitem__("load", wrk(f"http://127.0.0.1:{site.public}/", DURATION, 16))),
        threading.Thread(target=lambda: results.__setitem__("slow", wrk(f"http://127.0.0.1:{site.public}/slow", DURATION, 10, 1))),
    ]
    for t in loads:
        t.start()
    time.sleep(1)
    durations, outcomes = [], []
    started = time.time()
    for n in range(1, DEPLOYS + 1):
        site.write("version.txt", f"v{n}")
        t0 = time.time()
        d = site.deploy()
        durations.append(round(time.time() - t0, 2))
        outcomes.append(d["status"])
    deploying = time.time() - started
    for t in loads:
        t.join()
    return {
        "deployments": len(outcomes),
        "succeeded": outcomes.count("succeeded"),
        "deploy_seconds_each": durations,
        "deploying_seconds": round(deploying, 1),
        "wrk_seconds": DURATION,
        "load": results.get("load"),
        "slow_2s_endpoint": results.get("slow"),
        "failed_requests": sum((results.get(k) or {}).get(f, 0) for k in ("load", "slow") for f in ("socket_errors", "non_2xx")),
    }


def rollbacks(o):
    site = Site(o, {"watch_secs": 0, "ready_passes": 1})
    site.write("version.txt", "good")
    assert site.deploy()["status"] == "succeeded"
    site.policy({"watch_secs": 60, "ready_passes": 1, "min_requests": 20, "max_5xx_percent": 20})
    site.write("version.txt", "bad")
    site.write("mode.txt", "fail")
    d = o.call("deployments/deploy", {"project_id": site.project})
    bad = 0
    crossed = None
    back = None
    deadline = time.time() + 60
    while time.time() < deadline:
        status, body = site.get()
        if body == "bad" and status == 500:
            bad += 1
            if bad == 20:
                crossed = time.time()
        elif body == "good" and crossed is not None:
            back = time.time()
            break
        time.sleep(0.005)
    auto = site.wait(d["id"])
    os.remove(os.path.join(site.folder, "mode.txt"))
    site.policy({"watch_secs": 0, "ready_passes": 1})
    for v in ("r3", "r4"):
        site.write("version.txt", v)
        assert site.deploy()["status"] == "succeeded"
    t0 = time.time()
    m = o.call("deployments/rollback", {"project_id": site.project, "release": 1})
    manual = site.wait(m["id"])
    done = time.time() - t0
    while site.get()[1] != "good" and time.time() - t0 < 30:
        time.sleep(0.01)
    serving = time.time() - t0
    return {
        "automatic": {"status": auto["status"], "reason": auto["reason"],
                      "threshold_to_old_release_s": round(back - crossed, 3) if back and crossed else None},
        "manual": {"status": manual["status"], "to_succeeded_s": round(done, 3), "to_first_answer_s": round(serving, 3)},
    }


results = {"proxy_overhead": proxy_overhead()}
print(json.dumps({"proxy_overhead": results["proxy_overhead"]}), flush=True)
o = Optimus()
o.sign_in()
try:
    results["zero_failed_requests"] = zero_failed_requests(o)
    print(json.dumps({"zero_failed_requests": results["zero_failed_requests"]}), flush=True)
    results["rollbacks"] = rollbacks(o)
finally:
    o.proc.terminate()
    o.proc.wait()
    # The proxy and the deployed services outlive Optimus on purpose: stop them here.
    pid_file = os.path.join(o.data, "proxy", "proxy.pid")
    if os.path.exists(pid_file):
        subprocess.run(["kill", open(pid_file).read().strip()], check=False)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(o.data):
                os.kill(int(pid), 9)
        except OSError:
            pass
print(json.dumps(results, indent=2))
