"""Checks `podkv serve` with the official `openai` client (pip install openai): a chat and a streamed chat
per KV policy, then the KV bytes per policy from /metrics.
Usage: podkv serve --model qwen2.5-coder-0.5b --port 18089 &  python3 scripts/openai_client_check.py [PORT]"""
import sys, urllib.request
from openai import OpenAI
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 18089
c = OpenAI(base_url=f"http://127.0.0.1:{PORT}/v1", api_key="none")
for pol in ["full", "pod:group-size=4,window=32,sink=4"]:
    r = c.chat.completions.create(model="qwen2.5-coder-0.5b", messages=[{"role":"user","content":"Write a Python function that adds two numbers."}],
        max_tokens=40, temperature=0, extra_body={"kv_policy": pol})
    print(pol, "->", repr(r.choices[0].message.content[:120]), r.usage.model_dump())
    s = c.chat.completions.create(model="qwen2.5-coder-0.5b", messages=[{"role":"user","content":"Say hello in French."}],
        max_tokens=20, temperature=0, stream=True, extra_body={"kv_policy": pol})
    parts = []
    for ch in s:
        if ch.choices and ch.choices[0].delta.content: parts.append(ch.choices[0].delta.content)
        if getattr(ch, "usage", None): print("  stream usage", ch.usage.model_dump())
    print("  streamed:", repr("".join(parts)))

metrics = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics").read().decode()
print("\n".join(line for line in metrics.splitlines() if line.startswith("podkv_kv_bytes")))
