#!/usr/bin/env bash
# Installs what scripts/test-all.sh's suites need, checking first so that a second run installs
# nothing and takes seconds:
#   apt: dataset-fashion-mnist (IDX files for the data tests and the demo), postgresql (the PostgreSQL
#        run store tests, scripts/postgres.sh), libpng/libjpeg-turbo
#        headers (the build's folder: decoder), gcc-arm-none-eabi + newlib + qemu-system-arm (the
#        generated C on a Cortex-M7), chromium (the HTML report rendered headless), slurm-wlm +
#        munge (the one-node cluster of scripts/slurm.sh for the Slurm launcher's tests and
#        scripts/cluster-e2e.sh), sqlite3 (queue-e2e.sh / cluster-e2e.sh read the run store);
#   pip: tflite-micro and ai-edge-litert (the .tflite interop tests run the real TFLM/LiteRT
#        kernels against the Swift int8 engine);
#   the local LLM: scripts/llm-server.sh install (llama-cpp-python + SmolLM2-135M in .venv-llm).
# Called by .ci/run and by scripts/test-all.sh. `--check` only lists what is missing (exit 1 if
# anything is).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK_ONLY=0
case "${1:-}" in
    "") ;;
    --check) CHECK_ONLY=1 ;;
    *) echo "install-deps: unknown argument '$1' (usage: install-deps.sh [--check])" >&2; exit 2 ;;
esac

APT_PACKAGES=(dataset-fashion-mnist postgresql libpng-dev libjpeg62-turbo-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium slurm-wlm munge sqlite3)
# pip package:the module the tests import
PIP_PACKAGES=(tflite-micro:tflite_micro ai-edge-litert:ai_edge_litert)
LLM_PY="${TINYFORGE_LLM_VENV:-$PWD/.venv-llm}/bin/python"

missing_apt=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_apt+=("$p")
done
missing_pip=()
for entry in "${PIP_PACKAGES[@]}"; do
    python3 -c "import ${entry#*:}" 2>/dev/null || missing_pip+=("${entry%%:*}")
done
llm_ok=0
if [ -x "$LLM_PY" ] && "$LLM_PY" -c "import llama_cpp.server" 2>/dev/null \
   && bash scripts/llm-server.sh model-path >/dev/null 2>&1; then
    llm_ok=1
fi

if [ "$CHECK_ONLY" = 1 ]; then
    status=0
    [ ${#missing_apt[@]} -eq 0 ] || { echo "missing apt packages: ${missing_apt[*]}"; status=1; }
    [ ${#missing_pip[@]} -eq 0 ] || { echo "missing pip packages: ${missing_pip[*]}"; status=1; }
    [ "$llm_ok" = 1 ] || { echo "missing: the local LLM (scripts/llm-server.sh install)"; status=1; }
    [ "$status" = 1 ] || echo "install-deps: everything present"
    exit "$status"
fi

if [ ${#missing_apt[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || { echo "install-deps: apt-get not found; install by hand: ${missing_apt[*]}" >&2; exit 1; }
    SUDO=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; as root run: apt-get install -y ${missing_apt[*]}" >&2; exit 1; }
        SUDO=(sudo)
    fi
    echo "install-deps: apt-get install ${missing_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi
if [ ${#missing_pip[@]} -gt 0 ]; then
    echo "install-deps: pip install ${missing_pip[*]}"
    python3 -m pip install -q "${missing_pip[@]}"
fi
[ "$llm_ok" = 1 ] || bash scripts/llm-server.sh install
echo "install-deps: everything present"
