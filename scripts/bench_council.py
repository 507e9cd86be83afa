"""The council benchmark driven by scripts/bench-council.sh (standard library only).

Seeds the database directly (SQLite, with the FTS5 triggers doing their work on insert), then
times requests through the API of a running release server."""
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1]
WORDS = ("deploy release schema migration backup restore tests flaky crash latency memory cpu "
         "billing search invoices ledger api frontend rewrite refactor postgres redis cache "
         "queue worker cron budget team deadline security review rollback canary feature flag "
         "upgrade library framework incident outage customer export import report dashboard").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


class Server:
    def __init__(self, data):
        self.port = free_port()
        env = dict(os.environ, OPTIMUS_DATA_DIR=data, OPTIMUS_BIND=f"127.0.0.1:{self.port}",
                   OPTIMUS_LOG="warn", OPTIMUS_API_RATE_PER_MINUTE="100000000")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz")
                break
            except OSError:
                time.sleep(0.05)
        self.token = None

    def call(self, path, body):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return out[len(out) // 2], out[min(len(out) - 1, int(len(out) * 0.99))]


def main():
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="optimus-bench-council-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    folder = os.path.join(work, "ledger")
    os.makedirs(folder)
    with open(os.path.join(folder, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "ledger"\nversion = "0.1.0"\n')
    s = Server(data)
    s.call("auth/setup", {"username": "bench", "password": "benchmark passphrase"})
    s.token = s.call("auth/login", {"username": "bench", "password": "benchmark passphrase"})["token"]
    pid = s.call("projects/create", {"path": folder})["id"]
    s.call("council/personas", {})  # seeds the personas
    s.close()

    db = sqlite3.connect(os.path.join(data, "optimus.db"))
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    t = time.monotonic()
    db.executemany("INSERT INTO project_activity (project_id, at, kind, summary, actor) VALUES (?, ?, ?, ?, NULL)",
                   [(pid, now, "updated", sentence(rng, 6)) for _ in range(5000)])
    db.executemany("INSERT INTO audit_events (at, actor_id, actor, action, target, outcome, client_addr) "
                   "VALUES (?, NULL, 'bench', 'projects.update', ?, 'ok', NULL)",
                   [(now, f"project:{folder}") for _ in range(5000)])
    # 100,000 memories: the first 5,000 about this project.
    rows = []
    for i in range(100_000):
        rows.append(("note", None, pid if i < 5000 else None, None, sentence(rng, 6), sentence(rng, 40),
                     rng.random(), 0, now, now))
    db.executemany("INSERT INTO council_memories (kind, deliberation_id, project_id, persona, title, content, "
                   "importance, pinned, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    # A 100,000-edge graph: 20,000 projects using 5 of 200 technologies (rust among them).
    techs = ["rust"] + [f"tech-{i}" for i in range(199)]
    db.executemany("INSERT OR IGNORE INTO kg_nodes (kind, key, label, props, created_at) VALUES ('technology', ?, ?, '{}', ?)",
                   [(t_, t_, now) for t_ in techs])
    db.executemany("INSERT INTO kg_nodes (kind, key, label, props, created_at) VALUES ('project', ?, ?, '{}', ?)",
                   [(f"seed-{i}", f"seed project {i}", now) for i in range(20_000)])
    tech_ids = {k: i for k, i in db.execute("SELECT key, id FROM kg_nodes WHERE kind = 'technology'")}
    proj_ids = [i for (i,) in db.execute("SELECT id FROM kg_nodes WHERE kind = 'project' AND key LIKE 'seed-%'")]
    edges = []
    for p in proj_ids:
        for t_ in rng.sample(techs, 5):
            edges.append((p, tech_ids[t_], "uses", 1.0, now, None, "catalog"))
    db.executemany("INSERT INTO kg_edges (src, dst, kind, weight, valid_from, valid_to, source) VALUES (?, ?, ?, ?, ?, ?, ?)", edges)
    db.commit()
    db.close()
    print(f"seeded 10,000 timeline/audit entries, 100,000 memories, {len(edges):,} graph edges in {time.monotonic() - t:.1f} s")

    s = Server(data)
    s.token = s.call("auth/login", {"username": "bench", "password": "benchmark passphrase"})["token"]
    try:
        q = {"question": "Should we deploy the ledger schema migration with the new backup job?", "project_id": pid,
             "facts": {"tests": "passing", "schema_change": True, "backup_age_hours": 30}}
        d = s.call("council/deliberate", q)
        assert len(d["turns"]) == 5, d
        p50, p99 = timed(lambda: s.call("council/deliberate", q), 100)
        print(f"offline deliberation, 5 personas, 10k timeline/audit + 5k project memories: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        queries = [sentence(rng, 5) for _ in range(200)]
        it = iter(queries * 2)
        p50, p99 = timed(lambda: s.call("council/memories", {"search": next(it), "limit": 20}), 200)
        print(f"memory recall over 100,000 memories (20 best): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        g = s.call("council/graph", {"project_id": pid, "depth": 2})
        p50, p99 = timed(lambda: s.call("council/graph", {"project_id": pid, "depth": 2}), 100)
        print(f"graph neighbourhood depth 2 on {len(edges):,} edges ({len(g['nodes'])} nodes, {len(g['edges'])} edges returned): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    finally:
        s.close()
        shutil.rmtree(work, ignore_errors=True)


main()
