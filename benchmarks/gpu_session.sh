#!/usr/bin/env bash
# Everything to measure when the `device` tool lends a GPU, in one call of about 4 minutes
# (plus the machine's start): the GPU tests, where the reference network's time goes (per
# convolution), the benchmarks of issue 5 (TF32, full float32 and --half), a training step and
# the default model end to end. Runs from the repository root on the device machine's own
# Python (CuPy, PyTorch, typer, rich, pillow and pytest are there), with no install; results
# land in $OUT: session.log and the tables (also in benchmarks/results/*_gpu*.md).
#
#   run(command="bash benchmarks/gpu_session.sh", timeout_s=560)
set -uo pipefail
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
out="${OUT:-/tmp/gpu_session}"
mkdir -p "$out"
log="$out/session.log"  # one log (the tool brings back at most 8 files)
step() {  # step SECONDS NAME COMMAND...: one stage, its own time limit, appended to the log
    local seconds=$1 name=$2
    shift 2
    echo "== $name: $*" | tee -a "$log"
    timeout "$seconds" "$@" 2>&1 | tee -a "$log" | tail -25
}
nvidia-smi -L | tee -a "$log"
python3 -c "import cupy, torch; print('cupy', cupy.__version__, 'torch', torch.__version__)" \
    | tee -a "$log"
step 270 tests python3 -m pytest -q -n 4 -k gpu -p no:cacheprovider  # 1,392 tests
step 90 layers python3 benchmarks/profile_layers.py --device gpu --size 512 --repeat 10
step 60 reference_no_tf32 python3 benchmarks/bench_reference_network.py --device gpu \
    --no-tf32 --sizes 256 512 1024 --repeat 10
step 90 reference python3 benchmarks/bench_reference_network.py --device gpu \
    --sizes 256 512 1024 --repeat 10
step 60 reference_half python3 benchmarks/bench_reference_network.py --device gpu --half \
    --sizes 256 512 1024 --repeat 10
step 60 train_step python3 benchmarks/bench_train_step.py --device gpu --steps 20
step 120 stylize python3 benchmarks/bench_stylize.py --device gpu --rounds 2
cp benchmarks/results/*gpu*.md "$out/"
