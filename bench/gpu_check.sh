#!/usr/bin/env bash
# GPU check (bench/gpu_check.py): the default lineups on this machine's GPU(s), compared with the CPU
# figures; at most 8 minutes on one GPU. Uses .venv when present (make setup), else python3 as is.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
exec timeout 480 "$PYTHON" bench/gpu_check.py "$@"
