"""The pipelines benchmark driven by scripts/bench-pipelines.sh (standard library only).

1. Queue-to-start: 100 pipelines of 5 no-op steps (a chain) queued at once; for each step, the
   time from when it could start (its run was queued, or the step before it ended) to its
   process existing. Run twice: with the default 8 step slots (steps also wait for a free slot)
   and with 128 (no slot waiting: Optimus's own latency).
2. Overhead per step: one pipeline of 50 chained `true` steps, beside a shell script running
   `sh -c true` 50 times; the difference per step.
3. Live log line → a WebSocket client on another instance (two servers on one PostgreSQL and
   Redis): a step prints its own clock 200 times; the client on the other instance compares.
4. A 100,000-line step log: stored completely (line and byte counts) and read back through the
   API (all of it, and the last 5,000 lines the viewer loads).
"""
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime

BIN = sys.argv[1]
PG = os.environ.get("BENCH_DATABASE", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")


import bench_common
from bench_common import Optimus as _Optimus, free_port, pct, ts

bench_common.BIN = BIN


class Optimus(_Optimus):
    def pipeline(self, project, name, steps):
        return self.call("pipelines/create", {"project_id": project, "definition": {"name": name, "steps": steps}})["id"]

    def wait_runs(self, ids, timeout=600):
        deadline = time.time() + timeout
        pending = set(ids)
        done = {}
        while pending and time.time() < deadline:
            for rid in list(pending):
                r = self.call("pipelines/get_run", {"id": rid})
                if r["status"] in ("succeeded", "failed", "cancelled", "interrupted"):
                    done[rid] = r
                    pending.discard(rid)
            if pending:
                time.sleep(0.2)
        if pending:
            raise SystemExit(f"runs not over in {timeout}s: {sorted(pending)[:5]}")
        return done

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def chain(n, command="true"):
    steps = []
    for i in range(n):
        s = {"name": f"s{i}", "command": command}
        if i:
            s["depends_on"] = [f"s{i - 1}"]
        steps.append(s)
    return steps


def queue_to_start(slots, database=None):
    extra = {"OPTIMUS_PIPELINE_SLOTS": str(slots)}
    if database:
        extra["OPTIMUS_DATABASE_URL"] = database
    o = Optimus(extra)
    try:
        o.sign_in()
        project, _ = o.project()
        ids = [o.pipeline(project, f"p{i}", chain(5)) for i in range(100)]
        started = time.time()
        runs = [o.call("pipelines/run", {"pipeline_id": i})["id"] for i in ids]
        queued = time.time() - started
        done = o.wait_runs(runs)
        wall = time.time() - started
        lat = []
        for r in done.values():
            ready = ts(r["created_at"])
            for s in r["steps"]:
                lat.append((ts(s["started_at"]) - ready) * 1000)
                ready = ts(s["finished_at"])
        ok = sum(1 for r in done.values() if r["status"] == "succeeded")
        return {"slots": slots, "database": "postgres" if database else "sqlite", "steps": len(lat), "succeeded_runs": ok, "queue_calls_s": round(queued, 2),
                "wall_s": round(wall, 2), "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
                "max_ms": round(max(lat), 1)}
    finally:
        o.stop()


def overhead():
    o = Optimus()
    try:
        o.sign_in()
        project, _ = o.project()
        pid = o.pipeline(project, "fifty", chain(50))
        rid = o.call("pipelines/run", {"pipeline_id": pid})["id"]
        r = o.wait_runs([rid])[rid]
        optimus_s = ts(r["finished_at"]) - ts(r["started_at"])
        script = "\n".join(["sh -c true"] * 50)
        t0 = time.time()
        subprocess.run(["sh", "-c", script], check=True)
        shell_s = time.time() - t0
        return {"steps": 50, "optimus_s": round(optimus_s, 3), "shell_s": round(shell_s, 3),
                "overhead_per_step_ms": round((optimus_s - shell_s) / 50 * 1000, 1)}
    finally:
        o.stop()


class WebSocket:
    """Just enough of RFC 6455 for a client: handshake, a masked text frame, reading frames."""

    def __init__(self, port, token):
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Authorization: Bearer {token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise SystemExit(f"websocket refused: {head[:200]!r}")
        self.buf = b""

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(data)
        header += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._read(2), "big")
        elif n == 127:
            n = int.from_bytes(self._read(8), "big")
        payload = self._read(n)
        return (b0 & 0x0F), payload


def live_log_across_instances():
    db = fresh_database()
    shared = tempfile.mkdtemp(prefix="optimus-bench-")
    extra = {"OPTIMUS_DATABASE_URL": f"{PG}/{db}", "OPTIMUS_REDIS_URL": REDIS,
             "OPTIMUS_REDIS_PREFIX": db, "OPTIMUS_PIPELINE_SLOTS": "8"}
    a = Optimus(dict(extra), data=shared)
    a.sign_in()
    # B runs nothing: the step runs on A, the client listens on B.
    b = Optimus(dict(extra, OPTIMUS_PIPELINE_SLOTS="0"), data=shared)
    b.sign_in(first=False)
    try:
        project, folder = a.project()
        pid = a.pipeline(project, "clock", [{"name": "clock", "command":
                                              "while [ ! -f go ]; do sleep 0.05; done; "
                                              "for i in $(seq 200); do date +%s.%N; sleep 0.02; done"}])
        rid = a.call("pipelines/run", {"pipeline_id": pid})["id"]
        ws = WebSocket(b.port, b.token)
        ws.send(json.dumps({"type": "subscribe", "topics": [f"pipeline-logs:{rid}"]}))
        ws.recv()
        open(os.path.join(folder, "go"), "w").close()
        lat = []
        deadline = time.time() + 60
        while len(lat) < 200 and time.time() < deadline:
            op, payload = ws.recv()
            now = time.time()
            if op != 1:
                continue
            msg = json.loads(payload)
            event = msg.get("envelope", {}).get("event", {})
            if event.get("type") != "step_log_lines":
                continue
            for line in event["lines"]:
                try:
                    lat.append((now - float(line["text"])) * 1000)
                except ValueError:
                    pass
        a.wait_runs([rid])
        return {"lines": len(lat), "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1),
                "max_ms": round(max(lat), 1) if lat else None}
    finally:
        a.stop()
        b.stop()
        drop_database(db)


def big_log():
    o = Optimus()
    try:
        o.sign_in()
        project, _ = o.project()
        pid = o.pipeline(project, "big", [{"name": "seq", "command": "seq 100000"}])
        rid = o.call("pipelines/run", {"pipeline_id": pid})["id"]
        r = o.wait_runs([rid])[rid]
        t0 = time.time()
        log = o.call("pipelines/step_log", {"run_id": rid, "step": "seq"})
        all_ms = (time.time() - t0) * 1000
        t0 = time.time()
        o.call("pipelines/step_log", {"run_id": rid, "step": "seq", "tail": 5000})
        tail_ms = (time.time() - t0) * 1000
        lines = log["lines"]
        stored = sum(len(l["text"]) + 1 for l in lines)
        expected = len(subprocess.run(["seq", "100000"], capture_output=True, check=True).stdout)
        in_order = all(l["text"] == str(i + 1) for i, l in enumerate(lines))
        return {"lines": len(lines), "bytes": stored, "expected_bytes": expected, "complete": stored == expected and in_order,
                "dropped": log["dropped"], "step_s": r["steps"][0]["duration_ms"] / 1000,
                "read_all_ms": round(all_ms), "read_tail_5000_ms": round(tail_ms)}
    finally:
        o.stop()


def fresh_database():
    db = f"optimus_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"create database {db}"], check=True)
    return db


def drop_database(db):
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"drop database if exists {db} with (force)"], check=False)


results = {}
for slots in (8, 128):
    results[f"queue_to_start_sqlite_slots_{slots}"] = queue_to_start(slots)
    print(json.dumps({f"queue_to_start_sqlite_slots_{slots}": results[f"queue_to_start_sqlite_slots_{slots}"]}), flush=True)
if shutil.which("psql"):
    for slots in (8, 128):
        db = fresh_database()
        try:
            results[f"queue_to_start_postgres_slots_{slots}"] = queue_to_start(slots, f"{PG}/{db}")
        finally:
            drop_database(db)
        print(json.dumps({f"queue_to_start_postgres_slots_{slots}": results[f"queue_to_start_postgres_slots_{slots}"]}), flush=True)
results["overhead"] = overhead()
print(json.dumps({"overhead": results["overhead"]}), flush=True)
if shutil.which("psql"):
    results["live_log_other_instance"] = live_log_across_instances()
    print(json.dumps({"live_log_other_instance": results["live_log_other_instance"]}), flush=True)
results["big_log"] = big_log()
print(json.dumps({"big_log": results["big_log"]}), flush=True)
print(json.dumps(results, indent=2))
