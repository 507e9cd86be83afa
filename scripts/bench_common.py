"""What the benchmark drivers share (standard library only): a free port, percentiles, and a
release `optimus serve` on a fresh data dir driven through its API. Set `BIN` first."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime

BIN = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


class Optimus:
    def __init__(self, extra=None, data=None):
        self.data = data or tempfile.mkdtemp(prefix="optimus-bench-")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMUS_")}
        env.update(OPTIMUS_DATA_DIR=self.data, OPTIMUS_BIND=f"127.0.0.1:{self.port}", OPTIMUS_LOG="warn",
                   OPTIMUS_API_RATE_PER_MINUTE="100000000")
        env.update(extra or {})
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz")
                break
            except OSError:
                time.sleep(0.05)
        self.token = None

    def sign_in(self, first=True):
        if first:
            self.call("auth/setup", {"username": "bench", "password": "benchmark passphrase"}, token=False)
        self.token = self.call("auth/login", {"username": "bench", "password": "benchmark passphrase"}, token=False)["token"]

    def call(self, path, body, token=True):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        if token:
            req.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read() or b"null")

    def project(self):
        folder = tempfile.mkdtemp(prefix="optimus-bench-project-")
        return self.call("projects/create", {"path": folder})["id"], folder
