#!/usr/bin/env bash
# Speed figures of docs/PERFORMANCE.md: podkv bench on both reference models (pp512, tg128, tg64 at depth
# 4096), 2 threads, 5 repetitions (3 at depth), release build. With LLAMA_BENCH=/path/to/llama-bench the
# same tests run through llama.cpp on the same GGUF files, interleaved with ours so both see the same
# machine load. Results: one JSON line per test in $OUT (default bench-results.jsonl) plus the tables on
# stdout. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-results.jsonl}
THREADS=${THREADS:-2}
swift build -c release --product podkv >/dev/null
PODKV=.build/release/podkv
: > "$OUT"
for model in smollm2-135m qwen2.5-coder-0.5b; do
    gguf="${PODKV_HOME:-$HOME/.cache/podkv}/models/$model.gguf"
    [ -f "$gguf" ] || $PODKV pull "$model" >/dev/null
    if [ -n "${LLAMA_BENCH:-}" ] && [ -f "$gguf" ]; then
        echo "## llama.cpp $model"
        "$LLAMA_BENCH" -m "$gguf" -p 512 -n 128 -t "$THREADS" -r 5
        "$LLAMA_BENCH" -m "$gguf" -p 0 -n 64 -d 4096 -t "$THREADS" -r 3
    fi
    echo "## podkv $model"
    $PODKV bench --model "$model" --prompt-tokens 512 --gen-tokens 128 --threads "$THREADS" --repetitions 5 --json | tee -a "$OUT"
    $PODKV bench --model "$model" --prompt-tokens 0 --gen-tokens 64 --depth 4096 --threads "$THREADS" --repetitions 3 --json | tee -a "$OUT"
done
