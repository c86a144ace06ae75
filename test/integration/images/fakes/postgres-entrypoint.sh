#!/usr/bin/env bash
# Stand-in for the postgres image's docker-entrypoint.sh: the same contract, written for this test.
# As root: create PGDATA and the socket directory, give them to postgres (999), and run itself again as
# postgres through gosu. As postgres, on a PGDATA without PG_VERSION: initdb with POSTGRES_USER and
# POSTGRES_PASSWORD, allow host connections by the configured password_encryption (scram-sha-256),
# create POSTGRES_DB on a socket-only temporary server, stop it. Then exec the command.
set -Eeo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != 'postgres' ]; then exec "$@"; fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

mkdir -p "$PGDATA"
chmod 00700 "$PGDATA" || :
mkdir -p /var/run/postgresql || :
chmod 03775 /var/run/postgresql || :
if [ "$(id -u)" = '0' ]; then
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  exec gosu postgres "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$POSTGRES_PASSWORD" ]; then
    echo >&2 'Error: Database is uninitialized and superuser password is not specified.'
    exit 1
  fi
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
  auth="$(postgres -C password_encryption)"
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres \
      --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
  fi
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
else
  echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
fi
exec "$@"
