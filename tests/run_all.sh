#!/bin/sh
# Install everything the test suite needs, then run all of it.
#   - Debian packages: chromium + chromium-driver (browser tests), redis-server (shared-cache tests)
#   - the project with its test extra
#   - MNIST: SINGULARITY_DATA_DIR if set, else downloaded once into ./data with torchvision
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

python -m pip install -q -e ".[test]"

if [ -z "${SINGULARITY_DATA_DIR:-}" ]; then
    SINGULARITY_DATA_DIR="$PWD/data"
    python -c "from torchvision.datasets import MNIST; MNIST('$SINGULARITY_DATA_DIR', train=False, download=True); MNIST('$SINGULARITY_DATA_DIR', train=True, download=True)"
fi
export SINGULARITY_DATA_DIR

python -m pytest --headless "$@"
