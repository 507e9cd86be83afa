"""Backups beside plain restic on the same tree, in one run (see scripts/bench-backups.sh).

The tree (BENCH_TREE_MB, default 1024): 60 % incompressible files of 50 MB, 25 % text in files
of 100 KB, 15 % source-like files of 1-10 KB. restic runs with `--no-cache` (Optimus keeps no
cache either: the repository is local); both compress with zstd at the default level.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
sys.path.insert(0, os.path.dirname(__file__))
import bench_common  # noqa: E402
from bench_common import Optimus  # noqa: E402

bench_common.BIN = BIN
MB = 1024 * 1024
TREE_MB = int(os.environ.get("BENCH_TREE_MB", "1024"))


def make_tree(root):
    rng = random.Random(15)
    total = TREE_MB * MB
    os.makedirs(root)
    big = int(total * 0.60)
    for i in range(max(1, big // (50 * MB))):
        with open(os.path.join(root, f"blob-{i}.bin"), "wb") as f:
            for _ in range(50):
                f.write(os.urandom(MB))
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))) for _ in range(5000)]
    text = int(total * 0.25)
    os.makedirs(os.path.join(root, "docs"))
    for i in range(text // (100 * 1024)):
        line = " ".join(rng.choice(words) for _ in range(1500))
        with open(os.path.join(root, "docs", f"page-{i}.txt"), "w") as f:
            f.write((line + "\n") * 12)
    small = int(total * 0.15)
    done, i = 0, 0
    while done < small:
        d = os.path.join(root, "src", f"mod{i // 200}")
        os.makedirs(d, exist_ok=True)
        n = rng.randint(1024, 10 * 1024)
        body = " ".join(rng.choice(words) for _ in range(n // 6))[:n]
        with open(os.path.join(d, f"file{i}.rs"), "w") as f:
            f.write(body)
        done += n
        i += 1
    size = 0
    files = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            size += os.path.getsize(os.path.join(dirpath, name))
            files += 1
    return size, files


# With BENCH_REMOTE=1 both repositories live on an SFTP server on loopback (`rclone serve sftp`):
# restic reaches it through its rclone backend, Optimus through the policy's `remote`.
REMOTE = os.environ.get("BENCH_REMOTE") == "1"
SFTP_ENV = {}


def restic(repo, *args):
    env = dict(os.environ, RESTIC_PASSWORD="bench passphrase", **SFTP_ENV)
    start = time.monotonic()
    subprocess.run(["restic", "--no-cache", "-q", "-r", repo, *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def optimus_job(o, path, body):
    start = time.monotonic()
    job = o.call(path, body)
    while True:
        j = o.call("backups/job", {"id": job["id"]})
        if j["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    took = time.monotonic() - start
    if j["status"] != "succeeded":
        raise SystemExit(f"{path}: {j}")
    return took, j


def main():
    work = tempfile.mkdtemp(prefix="optimus-bench-backups-")
    sftp = None
    try:
        tree = os.path.join(work, "tree")
        size, files = make_tree(tree)
        print(f"tree: {files} files, {size / MB:.0f} MiB")
        subprocess.run(["sync"], check=False)

        repo = os.path.join(work, "restic-repo")
        remote = None
        if REMOTE:
            served = os.path.join(work, "sftp")
            os.makedirs(served)
            port = bench_common.free_port()
            sftp = subprocess.Popen(["rclone", "serve", "sftp", served, "--addr", f"127.0.0.1:{port}",
                                     "--user", "bench", "--pass", "bench"],
                                    env=dict(os.environ, RCLONE_CONFIG=""),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            obscured = subprocess.run(["rclone", "obscure", "bench"], capture_output=True, text=True,
                                      check=True).stdout.strip()
            SFTP_ENV.update(RCLONE_CONFIG="", RCLONE_SFTP_HOST="127.0.0.1", RCLONE_SFTP_PORT=str(port),
                            RCLONE_SFTP_USER="bench", RCLONE_SFTP_PASS=obscured,
                            RCLONE_SFTP_SHELL_TYPE="none")
            repo = "rclone::sftp:restic-repo"
            remote = {"kind": "sftp", "host": "127.0.0.1", "port": port, "user": "bench",
                      "password": "bench", "path": "optimus-repo"}
            print(f"repositories on SFTP (rclone serve sftp on 127.0.0.1:{port})")
        restic(repo, "init", "--repository-version", "2")
        r_first = restic(repo, "backup", tree)
        r_again = restic(repo, "backup", tree)
        r_restore = restic(repo, "restore", "latest", "--target", os.path.join(work, "restic-restored"))

        o = Optimus()
        try:
            o.sign_in()
            project = o.call("projects/create", {"path": tree})["id"]
            body = {"project_id": project, "keep": {"last": 100}}
            if remote:
                body["remote"] = remote
            policy = o.call("backups/create_policy", body)
            o_first, j1 = optimus_job(o, "backups/run", {"policy_id": policy["id"]})
            o_again, j2 = optimus_job(o, "backups/run", {"policy_id": policy["id"]})
            snap = j1["result"]["snapshot_id"]
            o_restore, j3 = optimus_job(o, "backups/restore", {"snapshot_id": snap,
                                                               "target_path": os.path.join(work, "optimus-restored")})
        finally:
            o.proc.terminate()
            o.proc.wait(timeout=30)
        mib = size / MB
        print(f"{'':34} {'Optimus':>12} {'restic 0.14':>12}")
        print(f"{'first backup (s)':34} {o_first:12.2f} {r_first:12.2f}")
        print(f"{'first backup (MiB/s)':34} {mib / o_first:12.1f} {mib / r_first:12.1f}")
        print(f"{'rebackup, unchanged (s)':34} {o_again:12.2f} {r_again:12.2f}")
        print(f"{'rebackup / first':34} {o_again / o_first:12.1%} {r_again / r_first:12.1%}")
        print(f"{'restore everything (s)':34} {o_restore:12.2f} {r_restore:12.2f}")
        print(f"{'restore (MiB/s)':34} {mib / o_restore:12.1f} {mib / r_restore:12.1f}")
        print(f"Optimus: first backup added {j1['result']['added_bytes'] / MB:.0f} MiB, the rebackup "
              f"{j2['result']['added_bytes'] / MB:.2f} MiB; the restore read every file back "
              f"(verified: {j3['result']['verified']}); job times include the structure check and "
              f"retention after each backup, and the API round trips.")
        for name, j in (("first backup", j1), ("rebackup", j2), ("restore", j3)):
            phases = ", ".join(f"{p['phase']} {p['seconds']:.2f}" for p in j["result"].get("phases", []))
            print(f"Optimus {name}, by phase (s): {phases}")
        backing = sum(p["seconds"] for p in j1["result"].get("phases", []) if p["phase"] == "backing up")
        if backing > 0:
            print(f"{'first backup, data phase only (MiB/s)':34} {mib / backing:12.1f} {mib / r_first:12.1f}")
        print(json.dumps({"tree_mib": round(mib), "files": files, "optimus": [o_first, o_again, o_restore],
                          "restic": [r_first, r_again, r_restore]}))
    finally:
        if sftp:
            sftp.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
