#!/bin/sh
# Writes the replication login of a Redis Cluster node (replicas authenticate to their master; the
# default user is off): `masteruser admin` and its password from the environment, to a file only this
# pod sees. Fails on an empty password or one with a quote or backslash (the config file quotes it).
#   usage: render-replication-auth.sh OUTPUT
set -eu
if [ "$#" -ne 1 ]; then
  echo "usage: render-replication-auth.sh OUTPUT" >&2
  exit 2
fi
password=${REDIS_ADMIN_PASSWORD-}
case $password in
'')
  echo "render-replication-auth: REDIS_ADMIN_PASSWORD is not set or empty" >&2
  exit 1
  ;;
*'"'* | *'\'*)
  echo "render-replication-auth: REDIS_ADMIN_PASSWORD must not contain a quote or backslash" >&2
  exit 1
  ;;
esac
umask 077
printf 'masteruser admin\nmasterauth "%s"\n' "$password" >"$1"
