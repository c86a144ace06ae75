#!/usr/bin/env bash
# Stand-in for qdrant's tools/entrypoint.sh: runs ./qdrant, forwards SIGTERM/SIGINT, exits with its code.
trap 'kill -TERM "$QDRANT_PID" 2>/dev/null' TERM
trap 'kill -INT "$QDRANT_PID" 2>/dev/null' INT
./qdrant "$@" &
QDRANT_PID=$!
wait $QDRANT_PID
exit $?
