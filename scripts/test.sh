#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: sets up .venv with the dev extras and the
# real services first (see scripts/setup.sh), then pytest. Extra arguments go to pytest.
#
#   bash scripts/test.sh
#   bash scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# The real data, where it lies beside the checkout as on CI; tests that need it skip otherwise.
if [ -z "${TAIGIMED_DATA_ROOT:-}" ] && [ -d ../shared/data ]; then
  export TAIGIMED_DATA_ROOT="$(cd ../shared/data && pwd)"
fi
# Two cores shared with servers under test: idle OpenMP threads must sleep, not spin.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv/bin/python -m ruff check src tests benchmarks
.venv/bin/python -m ruff format --check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
