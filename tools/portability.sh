#!/usr/bin/env bash
# Do the course's numbers hold on every CPU? Re-run the numeric checks under several numeric
# configurations of this one machine and fail if any result changes.
#
#   bash tools/portability.sh              # every configuration: unit tests, exercises, lessons
#   bash tools/portability.sh --no-lessons # leave out the lessons (quicker, while editing)
#   bash tools/portability.sh --after-main-run  # CI: the default configuration's tests have just
#                                          # run (the README's test command), so only probe it
#
# Another CPU takes other floating-point paths: other OpenBLAS kernels (another order of additions
# in a dot or matrix product, with or without fused multiply-add) and other numpy SIMD loops
# (other last bits from exp, log, sin ...). One machine can imitate that by forcing them:
#
#   default          the machine as it is (whatever the environment sets, as in .ci/run)
#   openblas-Prescott OPENBLAS_CORETYPE=Prescott: the oldest x86-64 kernels (SSE3)
#   openblas-<other> OPENBLAS_CORETYPE=Haswell (AVX2), or another type if Haswell is the default
#   numpy-baseline   NPY_DISABLE_CPU_FEATURES=<every SIMD extension numpy dispatches to here>
#
# Under each one it runs the unit tests, the exercise solutions (nbval on exercises/source, whose
# autograder cells must pass) and the lessons (nbval on lessons/, which compares every text output
# with the committed one, so each output must be identical under every configuration). Before
# that it proves that each configuration really changes something: it prints the OpenBLAS kernel
# that numpy (and faiss) loaded, the SIMD extensions numpy dispatches to, and fingerprints of a
# few results that depend on them; a configuration that changes none of these fails.
#
# Linux only (it reads /proc to find the loaded OpenBLAS libraries, as threadpoolctl does).
# Exits non-zero if any configuration changes nothing or any test fails. Faceprints come from
# the cache (.facecourse-cache/), which the main test run fills, so dlib does not run again here;
# dlib picks its own kernels when it is built, not through these variables.
# Rules for writing numbers that pass here: CONTRIBUTING.md, "Numbers that hold on every CPU".
set -uo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-.venv/bin/python}"
LESSONS=1
AFTER_MAIN=0
for arg in "$@"; do
  case "$arg" in
    --no-lessons) LESSONS=0 ;;
    --after-main-run) AFTER_MAIN=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "portability: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
export FACECOURSE_IMAGE_MIRROR="${FACECOURSE_IMAGE_MIRROR:-$(cd .. && pwd)/shared/datasets/face-research-lab}"
export FACECOURSE_PROGRESS=0
LOGS="${PORTABILITY_LOGS:-test-artifacts/portability}"
mkdir -p "$LOGS"

# One line of key=value facts about the numeric configuration this process gets.
probe() {
  "$PY" - <<'EOF'
import ctypes, hashlib
import numpy as np

def corename(owner):
    """Name of the kernel set that a loaded OpenBLAS chose (threadpoolctl calls it architecture)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    paths = [p for p in paths if ("faiss" in p) == (owner == "faiss")]
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in ("openblas_get_corename", "scipy_openblas_get_corename64_", "openblas_get_corename64_"):
            if hasattr(lib, name):
                fn = getattr(lib, name)
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "none"

def bits(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()[:8]

np.dot(np.ones(4), np.ones(4))  # make sure OpenBLAS is loaded
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
simd = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
try:
    import faiss  # noqa: F401  (brings its own OpenBLAS)
    faiss_core = corename("faiss")
except ImportError:
    faiss_core = "no-faiss"
rng = np.random.default_rng(0)
x = rng.uniform(-4, 4, 4096)
m = rng.standard_normal((64, 128))
a, b = np.array([0.10, 0.20, 0.30, 0.40]), np.array([0.11, 0.20, 0.31, 0.40])
print(f"blas={corename('numpy')} faiss_blas={faiss_core} simd={','.join(simd) or 'baseline-only'}"
      f" dot={bits(np.array([np.linalg.norm(a - b)]), np.array([x @ x]))} gemm={bits(m @ m.T)}"
      f" exp64={bits(np.exp(x), np.log(np.abs(x)))} trig32={bits(np.sin(x.astype(np.float32)))}")
EOF
}

field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

echo "== portability: numeric configurations of this machine ($(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs))"
env | grep -E '^(OPENBLAS|NPY_|OMP_|MKL_)' | sed 's/^/   environment: /' || true
DEFAULT=$(probe) || { echo "portability: numpy does not import with $PY" >&2; exit 1; }
DEFAULT_CORE=$(field "$DEFAULT" blas)
ALT=Haswell
if [ "$DEFAULT_CORE" = Haswell ]; then
  if grep -qw avx512f /proc/cpuinfo; then ALT=SkylakeX; else ALT=Sandybridge; fi
fi
SIMD=$(field "$DEFAULT" simd | tr ',' ' ')
[ "$SIMD" = baseline-only ] && SIMD=""

NAMES=(default "openblas-Prescott" "openblas-$ALT" numpy-baseline)
ENVS=("" "OPENBLAS_CORETYPE=Prescott" "OPENBLAS_CORETYPE=$ALT" "NPY_DISABLE_CPU_FEATURES=$SIMD")

# Every unit test except those with no arithmetic in them (file handling, downloads, the class
# set-up, repository rules), so a new test file is checked unless it is added here.
UNIT=(tests --ignore=tests/test_classroom.py --ignore=tests/test_offline.py --ignore=tests/test_repository.py
      --ignore=tests/test_dataset.py --ignore=tests/test_manifest.py --ignore=tests/test_images.py
      --ignore=tests/test_timeline.py -k "not test_student_version_fails_every_autograder_test")
TARGETS=("${UNIT[@]}" exercises/source)
[ "$LESSONS" = 1 ] && TARGETS+=(lessons)
# shellcheck disable=SC2206  # PORTABILITY_TARGETS="tests/test_metrics.py ...": check only those
[ -n "${PORTABILITY_TARGETS:-}" ] && TARGETS=(${PORTABILITY_TARGETS})

declare -a ROWS
failures=0
start_all=$SECONDS
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  assignment=${ENVS[$i]}
  envargs=()
  [ -n "$assignment" ] && envargs=("$assignment")
  echo
  echo "== $name ${assignment:+($assignment)}"
  facts=$( [ -n "$assignment" ] && export "${assignment?}"; probe ) || facts="probe-failed"
  echo "   $facts"
  changed=()
  if [ "$name" = default ]; then
    changed=("reference: $(cut -d' ' -f1-3 <<<"$DEFAULT")")
  else
    for key in blas faiss_blas simd; do
      before=$(field "$DEFAULT" $key); after=$(field "$facts" $key)
      [ "$before" != "$after" ] && changed+=("$key $before->$after")
    done
    for key in dot gemm exp64 trig32; do
      [ "$(field "$DEFAULT" $key)" != "$(field "$facts" $key)" ] && changed+=("$key bits")
    done
  fi
  if [ "${#changed[@]}" -eq 0 ]; then
    echo "   FAIL: this configuration changed nothing here, so it proves nothing"
    ROWS+=("$name|changed nothing|-|-|-")
    failures=$((failures + 1))
    continue
  fi
  what=$(IFS=';'; echo "${changed[*]}")
  echo "   changed: $what"
  if [ "$name" = default ] && [ "$AFTER_MAIN" = 1 ]; then
    echo "   tests: run by the main test run just before (every test passed there, or CI stopped)"
    ROWS+=("$name|$what|main run|main run|-")
    continue
  fi
  t0=$SECONDS
  log="$LOGS/$name.log"
  env "${envargs[@]}" "$PY" -m pytest "${TARGETS[@]}" -q -p no:randomly >"$log" 2>&1
  status=$?
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|no tests ran' "$log" | tail -1 | sed -E 's/=//g; s/ in [0-9.]+s.*//' | xargs)
  passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | cut -d' ' -f1)
  failed=$(grep -oE '[0-9]+ (failed|error|errors)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
  echo "   pytest ${TARGETS[*]}: ${summary:-no summary} in $((SECONDS - t0)) s (log: $log)"
  if [ "$status" -ne 0 ]; then
    failures=$((failures + 1))
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/   /' | head -20
  fi
  ROWS+=("$name|$what|${passed:-0}|${failed:-0}|$((SECONDS - t0)) s")
done

echo
echo "== portability summary ($((SECONDS - start_all)) s in all; pytest ${TARGETS[*]})"
printf '%-20s %-9s %-9s %-7s %s\n' configuration passed failed time "what it changed (vs default)"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name what passed failed took <<<"$row"
  printf '%-20s %-9s %-9s %-7s %s\n' "$name" "$passed" "$failed" "$took" "$what"
done
if [ "$failures" -ne 0 ]; then
  echo "portability: FAILED in $failures configuration(s); see the logs in $LOGS/" >&2
  exit 1
fi
echo "portability: every configuration passed"
