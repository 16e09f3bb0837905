#!/bin/sh
# Creates (or updates) the vault's least-privilege role and applies docs/least-privilege.sql to it.
# Runs as the database owner after `tokenvault migrate`, in the postgres image (psql); idempotent,
# so it is safe on every `docker compose up`. The role's password comes from a secret file, so no
# password is ever written into SQL files, the environment or a URL.
set -eu
SECRETS=${SECRETS:-/run/secrets}
SQL_FILE=${SQL_FILE:-/least-privilege.sql}
APP_ROLE=${APP_ROLE:-tokenvault_app}
PGPASSWORD=$(cat "$SECRETS/postgres_password")
export PGPASSWORD

psql -v ON_ERROR_STOP=1 -q -v role="$APP_ROLE" -v password="$(cat "$SECRETS/app_db_password")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password')\gexec
SQL

# The file's own CREATE ROLE (with a placeholder password) was done above; the rest are grants.
# `current_database()` is not valid in GRANT ... ON DATABASE: name the database instead.
grep -v '^CREATE ROLE' "$SQL_FILE" \
  | sed -e "s/current_database()/\"$PGDATABASE\"/g" -e "s/tokenvault_app/\"$APP_ROLE\"/g" \
  | psql -v ON_ERROR_STOP=1 -q
echo "role $APP_ROLE ready on $PGDATABASE"
