#!/bin/sh
# Renders users.acl.template into a Redis ACL file: drops comments and blank lines, and replaces each
# {{VARIABLE}} with the SHA-256 (hex) of that environment variable, so `#{{X}}` becomes `#<sha256>`.
# Fails (non-zero, one line naming the variable) when a variable is unset or empty: Redis must never
# start with a user whose password is empty. POSIX sh + sha256sum: runs in redis:*-alpine (busybox)
# and on Debian alike.
#   usage: render-acl.sh TEMPLATE OUTPUT
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: render-acl.sh TEMPLATE OUTPUT" >&2
  exit 2
fi
template=$1
output=$2
umask 077
tmp="$output.tmp.$$"
trap 'rm -f "$tmp"' EXIT
: >"$tmp"
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
  '' | '#'*) continue ;;
  esac
  while :; do
    case $line in
    *'{{'*'}}'*) ;;
    *) break ;;
    esac
    rest=${line#*\{\{}
    name=${rest%%\}\}*}
    case $name in
    '' | *[!A-Z0-9_]*)
      echo "render-acl: bad placeholder {{$name}} in $template" >&2
      exit 1
      ;;
    esac
    eval "value=\${$name-}"
    if [ -z "$value" ]; then
      echo "render-acl: $name is not set or empty; refusing to render $template" >&2
      exit 1
    fi
    hash=$(printf '%s' "$value" | sha256sum | cut -d ' ' -f 1)
    line="${line%%"{{$name}}"*}$hash${line#*"{{$name}}"}"
  done
  printf '%s\n' "$line" >>"$tmp"
done <"$template"
mv "$tmp" "$output"
trap - EXIT
