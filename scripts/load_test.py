"""Bounded load test for `podkv serve`: a fixed number of requests, a fixed concurrency and a wall-clock
cap, to loopback only. Usage: python3 scripts/load_test.py [PORT] [REQUESTS] [CONCURRENCY]
Start the server first, e.g. `podkv serve --model smollm2-135m --port 18090 --parallel 2`."""
import json, time, urllib.request, urllib.error, concurrent.futures as cf, sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 18090
URL = f"http://127.0.0.1:{PORT}/v1/completions"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 24
CONC = int(sys.argv[3]) if len(sys.argv) > 3 else 4
CAP = 240.0
pols = ["full", "pod:group-size=2", "streaming-llm:window=64,sink=4"]
def one(i):
    body = json.dumps({"prompt": f"Request {i}: the history of the printing press began", "max_tokens": 32,
                       "temperature": 0, "kv_policy": pols[i % 3]}).encode()
    t = time.time()
    try:
        with urllib.request.urlopen(urllib.request.Request(URL, body, {"Content-Type": "application/json"}), timeout=120) as r:
            u = json.load(r)["usage"]; return (time.time() - t, r.status, u["completion_tokens"])
    except urllib.error.HTTPError as e:
        return (time.time() - t, e.code, 0)
start = time.time(); res = []
with cf.ThreadPoolExecutor(CONC) as ex:
    futs = [ex.submit(one, i) for i in range(N)]
    for f in cf.as_completed(futs, timeout=CAP): res.append(f.result())
wall = time.time() - start
lat = sorted(r[0] for r in res if r[1] == 200); codes = {}
for r in res: codes[r[1]] = codes.get(r[1], 0) + 1
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"requests {len(res)} in {wall:.1f}s, statuses {codes}, {len(lat)/wall:.2f} req/s, "
      f"{sum(r[2] for r in res)/wall:.1f} generated tok/s, latency p50 {pct(.5):.2f}s p90 {pct(.9):.2f}s p99 {pct(.99):.2f}s")
