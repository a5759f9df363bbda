#!/bin/sh
# Forms the Redis Cluster once: waits until every node answers, then `redis-cli --cluster create`
# with one replica per master. Idempotent: when the first node already knows other nodes (the
# cluster exists, healthy or failing over) it changes nothing and exits 0, so re-running the Job,
# or a Job retry after a partial run, never re-creates or resets a cluster holding a queue.
#   env: CLUSTER_NODES (space-separated host:port, the StatefulSet's pods in order),
#        CLUSTER_REPLICAS (replicas per master), REDISCLI_AUTH (the admin password),
#        CLUSTER_WAIT_S (how long to wait for each node; default 300)
set -eu
: "${CLUSTER_NODES:?CLUSTER_NODES is not set}"
: "${CLUSTER_REPLICAS:=1}"
: "${CLUSTER_WAIT_S:=300}"
cli() {
  node=$1
  shift
  redis-cli --user admin -h "${node%:*}" -p "${node##*:}" "$@"
}
for node in $CLUSTER_NODES; do
  waited=0
  until cli "$node" ping 2>/dev/null | grep -q PONG; do
    if [ "$waited" -ge "$CLUSTER_WAIT_S" ]; then
      echo "cluster-init: $node does not answer after $CLUSTER_WAIT_S s" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
done
first=${CLUSTER_NODES%% *}
info=$(cli "$first" cluster info)
known=$(printf '%s\n' "$info" | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
if printf '%s\n' "$info" | grep -q '^cluster_state:ok' || [ "${known:-1}" -gt 1 ]; then
  echo "cluster-init: the cluster already exists (cluster_known_nodes:$known); nothing to do"
  exit 0
fi
# Word splitting of $CLUSTER_NODES is intended: one argument per node.
# shellcheck disable=SC2086
redis-cli --user admin --cluster create $CLUSTER_NODES --cluster-replicas "$CLUSTER_REPLICAS" --cluster-yes
echo "cluster-init: cluster created"
