#!/usr/bin/env bash
# One short, prepared run on a CUDA machine (the device tool's H100/H200, or a course GPU runner):
# grades the reference solutions and the broken timing submissions on CUDA and packs every
# results file into $OUT/gpu-validation.tar.gz. Figures go to docs/gpu-validation.md.
#   bash benchmarks/gpu_validation.sh [REPEATS] [CASES...]
set -u
OUT=${OUT:-outputs/gpu-validation}
REPEATS=${1:-3}; shift || true
CASES=${*:-time_fn_no_sync made_up_timings python_loop_reduction other_styles}
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  $PY -c "import sys, torch, numpy, pytest; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__, 'pytest', pytest.__version__, torch.cuda.get_device_name(0))"
  nproc
} > "$WORK/environment.txt" 2>&1
cat "$WORK/environment.txt"

grade() {  # name submission-dir [extra args]
  local name=$1 submission=$2; shift 2
  local start=$SECONDS
  $PY -m autograder grade --submission "$submission" --device cuda --seed 7 --quiet \
      --results "$WORK/$name/results.json" "$@" > "$WORK/$name.log" 2>&1
  echo "$name: exit $? in $((SECONDS - start)) s"
  tail -n 9 "$WORK/$name.log"
}

build() {  # case: the solutions with tests/submissions/<case>/* appended (as the tests do)
  local case=$1 dir=$WORK/submissions/$1
  mkdir -p "$dir"; cp solutions/*.py "$dir/"
  for f in tests/submissions/$case/*.py; do
    printf '\n\n' >> "$dir/$(basename "$f")"; cat "$f" >> "$dir/$(basename "$f")"
  done
  echo "$dir"
}

for case in $CASES; do
  grade "$case" "$(build "$case")" --only hard
done
for i in $(seq 1 "$REPEATS"); do
  grade "solutions-hard-$i" solutions --only hard
done
rm -rf "$WORK/submissions"
tar -czf "$OUT/gpu-validation.tar.gz" -C "$WORK" .
