#!/bin/sh
# Stand-in for the redis image's docker-entrypoint.sh: the same contract, written for this test.
# A first argument that is an option or a .conf file means redis-server. Started as root, it gives the
# redis user the working directory (/data) and nothing else, then runs itself again as redis (999)
# through gosu, so redis-server reads its config as uid 999.
set -e
case "$1" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec gosu redis "$0" "$@"
fi
[ "$(umask)" = '0022' ] && umask 0077
exec "$@"
