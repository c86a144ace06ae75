#!/bin/sh
# Stand-in for litellm's docker/prod_entrypoint.sh without its optional supervisors: runs the CLI.
exec litellm "$@"
