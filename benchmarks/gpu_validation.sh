#!/usr/bin/env bash
# One short, prepared run on a CUDA machine (the device tool's H100/H200, or a course GPU runner):
# the GPU job's command, `grade --gpu-only --device cuda`, on the reference solutions, other_styles
# and every broken-timing submission, REPEATS times each, 4 gradings at once on one GPU under the
# device lease; then a summary (per grading and per case) and every results file packed into
# $OUT/gpu-validation.tar.gz. Figures go to docs/gpu-validation.md and docs/gpu-runner.md.
#   bash benchmarks/gpu_validation.sh [REPEATS] [CASES...]
# Environment: OUT, PYTHON, SANDBOX (auto), PARALLEL (4), START_BY_S (290: no grading starts
# later), END_BY_S (340: a grading still running then, waiting for the lease behind others, is
# stopped with SIGINT and listed without results, so the script ends within 6 minutes),
# DEVICE (cuda; DEVICE=cpu only smoke-tests this script: every check stays pending).
#
# Phases: (1) the reference and a loop reduction graded alone (the command's own time: targets
# 8 s and 15 s); (2) rounds 1..REPEATS of every case, PARALLEL at once, each round complete
# before the next (a run cut by START_BY_S still has whole rounds). Each results file carries
# its lease wait (extra_data.exercises.hard.lease_wait_seconds): wall minus wait is the grading.
set -u
OUT=${OUT:-outputs/gpu-validation}
REPEATS=${1:-3}; shift || true
CASES=${*:-solutions other_styles time_fn_no_sync made_up_timings python_loop_reduction patched_clock time_fn_async_cpu sleeps_for_ratio reduction_python_tree rnn_closed_form}
export PY=${PYTHON:-python3} SANDBOX=${SANDBOX:-auto} DEVICE=${DEVICE:-cuda}
PARALLEL=${PARALLEL:-4}
export START_BY_S=${START_BY_S:-290} END_BY_S=${END_BY_S:-340}
export WORK; WORK=$(mktemp -d)
export AUTOGRADER_LEASE_DIR=$WORK/lease  # this run's own lease: nothing else on the machine waits
export T0; T0=$(date +%s)
mkdir -p "$OUT" "$AUTOGRADER_LEASE_DIR" "$WORK/runs"
export PYTHONUNBUFFERED=1
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  $PY -c "import sys, torch, numpy, pytest; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__, 'pytest', pytest.__version__, torch.cuda.get_device_name(0))"
  nproc
  git rev-parse HEAD 2> /dev/null
} > "$WORK/environment.txt" 2>&1
cat "$WORK/environment.txt"

# every submission built once: the solutions with the case's overrides (benchmarks/submissions.py)
for case in $CASES; do
  if [ "$case" = solutions ]; then
    cp -r solutions "$WORK/submissions-$case"
  else
    $PY -c "import sys; from pathlib import Path; from benchmarks.submissions import build_submission; build_submission(sys.argv[1], Path(sys.argv[2]))" \
      "$case" "$WORK/submissions-$case" || echo "$case: could not be built"
  fi
done

grade() {  # name case: one `grade --gpu-only`, unless the start deadline has passed
  local name=$1 case=$2 start status left
  left=$(( END_BY_S - ($(date +%s) - T0) ))
  if [ $(( $(date +%s) - T0 )) -gt "$START_BY_S" ] || [ "$left" -lt 1 ]; then
    echo "$name: not started (START_BY_S)"; return
  fi
  start=$(date +%s%N)
  timeout -s INT -k 5 "$left" \
      $PY -m autograder grade --submission "$WORK/submissions-$case" --gpu-only --device "$DEVICE" \
      --seed 7 --sandbox "$SANDBOX" --quiet --results "$WORK/runs/$name/results.json" \
      > "$WORK/runs/$name.log" 2>&1
  status=$?
  echo "$name $case $status $(( ($(date +%s%N) - start) / 1000000 ))" >> "$WORK/walls.txt"
  echo "$name: exit $status at $(( $(date +%s) - T0 )) s"
}
export -f grade

echo "== phase 1: alone"
grade alone-solutions solutions
[ -d "$WORK/submissions-python_loop_reduction" ] && grade alone-python_loop_reduction python_loop_reduction
echo "== phase 2: $PARALLEL at once, $REPEATS rounds, lease in $AUTOGRADER_LEASE_DIR"
for round in $(seq 1 "$REPEATS"); do
  for case in $CASES; do echo "r$round-$case $case"; done | xargs -P "$PARALLEL" -L 1 bash -c 'grade "$0" "$1"'
done

$PY - "$WORK" <<'PY' | tee "$WORK/summary.txt"
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
walls = {}
for line in (work / "walls.txt").read_text().splitlines():
    name, case, status, wall = line.split()
    walls[name] = (case, int(status), int(wall) / 1000)
per_case = {}
print(f"{'grading':34s} exit  wall_s  lease_s  grading_s  score  not passed")
for name, (case, status, wall) in sorted(walls.items()):
    path = work / "runs" / name / "results.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        print(f"{name:34s} {status:4d} {wall:7.1f}  no results file")
        continue
    hard = doc["extra_data"]["exercises"].get("hard", {})
    wait = hard.get("lease_wait_seconds", 0.0)
    bad = sorted(t["id"] for t in doc["tests"] if t["status"] != "passed")
    print(f"{name:34s} {status:4d} {wall:7.1f} {wait:8.1f} {wall - wait:10.1f} {doc['score']:5g}  {' '.join(bad) or '-'}"
          + (f"  incidents: {hard.get('incidents')}" if hard.get("incidents") else ""))
    if not name.startswith("alone-"):
        per_case.setdefault(case, []).append(tuple(bad))
print()
for case, runs in per_case.items():
    same = "same every run" if len(set(runs)) == 1 else "DIFFERS between runs"
    print(f"{case:24s} {len(runs)} runs, {same}: {sorted(set(runs))}")
PY
elapsed=$(( $(date +%s) - T0 ))
echo "total: $elapsed s"
rm -rf "$WORK"/submissions-*
tar -czf "$OUT/gpu-validation.tar.gz" -C "$WORK" .
