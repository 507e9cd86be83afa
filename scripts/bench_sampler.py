"""The sampler step of scripts/bench-runtime.sh alone, for any release binary (before/after):
100 `sleep` services started and ready, sampled at 1 Hz; prints the server's CPU over the given
seconds as a share of one core. With a third argument, `perf record -g` writes a profile there.

    python3 scripts/bench_sampler.py <optimus binary> [seconds=30] [perf.data]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc
bc.BIN = sys.argv[1]
secs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
o = bc.Optimus(extra={"OPTIMUS_SAMPLE_INTERVAL_MS": "1000"})
o.sign_in()
folder = tempfile.mkdtemp()
with open(os.path.join(folder, "optimus.toml"), "w") as f:
    f.write("".join(f'[[services]]\nname = "s{i:03}"\ncommand = "exec sleep 100000"\n\n' for i in range(100)))
pid = o.call("projects/create", {"path": folder})["id"]
o.call("runtime/start", {"project_id": pid})
while sum(1 for x in o.call("runtime/status", {"project_id": pid})["services"] if x["state"] == "ready") < 100:
    time.sleep(0.05)
time.sleep(5)
def ticks(p):
    f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
t0 = ticks(o.proc.pid)
if len(sys.argv) > 3:
    subprocess.run(["perf", "record", "-F", "999", "-g", "-p", str(o.proc.pid), "-o", sys.argv[3], "--", "sleep", str(secs)], stderr=subprocess.DEVNULL)
else:
    time.sleep(secs)
print(f"server CPU over {secs} s: {(ticks(o.proc.pid)-t0)/os.sysconf('SC_CLK_TCK')/secs*100:.2f} % of a core")
o.call("runtime/stop", {"project_id": pid})
o.proc.terminate(); o.proc.wait()
