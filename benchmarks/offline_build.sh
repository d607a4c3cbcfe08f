#!/bin/bash
# Time the whole build, phase by phase, on a machine that has Python 3.12 and JAX but no
# network and none of this project's other packages (a GPU box, say), from a KIT made by
# `offline_kit.sh`; then, with JOBS set, `--jobs` on its CPU cores. Results go to OUT: the
# suite's JSON lines (build.jsonl, jobs.jsonl: machine, medians), the build's events as they
# came (build-events.jsonl), the machine (machine.txt) and the jobs table (jobs.txt).
#
#   OUT=results bash benchmarks/offline_build.sh KIT              # the full profile
#   PROFILE=quick JOBS=1,4,12 OUT=results bash benchmarks/offline_build.sh KIT
#
# TensorFlow is not carried (too large), so the export is the .keras file alone; the line
# that `python -m benchmarks build` prints says so.
set -u
KIT=$(cd "${1:?usage: offline_build.sh KIT}" && pwd)
cd "$(dirname "$0")/.." || exit
OUT=${OUT:-offline-results}; mkdir -p "$OUT"
PY=${PY:-python3}
SITE=${SITE:-/tmp/fmnist-site}
LIBS=${LIBS:-/tmp/fmnist-libs}
export PYTHONUNBUFFERED=1
{ lscpu; nproc; nvidia-smi -L; } > "$OUT/machine.txt" 2>&1
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$KIT"/whl/*.whl || exit 3
export PYTHONPATH=$SITE
mkdir -p "$LIBS"; for f in "$KIT"/deb/*.deb; do dpkg -x "$f" "$LIBS"; done
printf '<?xml version="1.0"?>\n<fontconfig><dir>%s/usr/share/fonts</dir><cachedir>%s/fc</cachedir></fontconfig>\n' \
  "$LIBS" "$LIBS" > "$LIBS/fonts.conf"
export FMNIST_DATA_DIR=$KIT/data
KERAS_BACKEND=jax "$PY" -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" 2>&1 | tail -1
LD_LIBRARY_PATH=$LIBS/usr/lib/x86_64-linux-gnu FONTCONFIG_FILE=$LIBS/fonts.conf \
  "$PY" -m benchmarks build --backend jax --profile "${PROFILE:-full}" --out "$OUT/build" --results "$OUT" 2>&1 \
  | grep -E '^\{|Error|error' | tee "$OUT/build-events.jsonl"
if [ -n "${JOBS:-}" ]; then
  JAX_PLATFORMS=cpu CUDA_VISIBLE_DEVICES="" FMNIST_REPORT_GPU_VISIBLE=0 timeout "${JOBS_LIMIT:-300}" \
    "$PY" -m benchmarks jobs --jobs "$JOBS" --seeds 3 --backend jax --subset 10000 --epochs 2 --results "$OUT" 2>&1 \
    | grep -v -E 'W0000|I0000' | tee "$OUT/jobs.txt"
fi
