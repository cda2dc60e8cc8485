#!/usr/bin/env bash
# Starts each image built by `make images` once, against the dev stack (`make up`: PostgreSQL 127.0.0.1:15432, Kafka
# 127.0.0.1:9092), without Docker: `buildah run --isolation chroot --network host`.
#
#   deploy/images/smoke.sh [component...]      default: every fupin/<c>:${FUPIN_IMAGE_TAG:-dev} in local storage
#
# Per component, inside its image: (1) `uvicorn --help` and an import of `<component>.main`; (2) a throwaway database
# smoke_<component>_<random> on the dev PostgreSQL, migrated by the image's own `alembic upgrade head` (what the
# migration Job runs); (3) the image's app on a free port with that database, the dev Kafka and the dev keys, under a
# consumer group of its own (so the running dev services lose nothing), until GET /readyz answers 200 (60 s at
# most); then it is stopped and the database dropped. Exit status 1 if any component fails.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${FUPIN_IMAGE_TAG:-dev}
PY=$REPO/.venv/bin/python
PG=${FUPIN_SMOKE_PG:-postgresql://postgres@127.0.0.1:15432}
KAFKA=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}
KEYS=$REPO/.run/keys

if [[ $# -gt 0 ]]; then
  components=("$@")
else
  mapfile -t components < <(buildah images --format '{{.Name}}:{{.Tag}}' | sed -n "s#^localhost/fupin/\(.*\):$TAG\$#\1#p")
fi
[[ ${#components[@]} -gt 0 ]] || { echo "no fupin/*:$TAG image: run make images" >&2; exit 2; }
[[ -r $KEYS/jwt_public.pem ]] || { echo "no dev keys in $KEYS: run make up" >&2; exit 2; }
# The dev keys, readable by the images' user (10001) only, in a directory removed at exit.
keys=$(mktemp -d)
ctr=""
db=""
cleanup() {
  [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1
  [[ -n $db ]] && sql "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$keys"
}
trap cleanup EXIT
cp "$KEYS/jwt_public.pem" "$KEYS/jwt_private.pem" "$keys/"
chown -R 10001:10001 "$keys"
chmod 0500 "$keys"
chmod 0400 "$keys"/*.pem

sql() { "$PY" - "$PG/postgres" "$1" <<'EOF'
import asyncio, sys, asyncpg
async def main() -> None:
    conn = await asyncpg.connect(sys.argv[1])
    try:
        await conn.execute(sys.argv[2])
    finally:
        await conn.close()
asyncio.run(main())
EOF
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

failed=()
for c in "${components[@]}"; do
  folder=services/$c
  [[ $c == gateway ]] && folder=gateway
  db=smoke_${c}_$(openssl rand -hex 4)
  url=postgresql+asyncpg://postgres@127.0.0.1:15432/$db
  port=$(free_port)
  start=$(date +%s)
  echo "==> fupin/$c:$TAG"
  ctr=$(buildah from "fupin/$c:$TAG")
  run() { buildah run --isolation chroot --network host --user 10001:10001 \
    -v "$keys:/keys:ro" \
    --env FUPIN_PROFILE=dev --env KAFKA_BOOTSTRAP_SERVERS="$KAFKA" \
    --env FUPIN_JWT_PUBLIC_KEY_FILE=/keys/jwt_public.pem --env FUPIN_JWT_PRIVATE_KEY_FILE=/keys/jwt_private.pem \
    --env FUPIN_CONSUMER_GROUP="smoke-$db" --env "${c^^}_DATABASE_URL=$url" \
    "$ctr" -- "$@"; }
  ok=1
  run uvicorn --help >/dev/null && run python -c "import $c.main" && run fupin-dlq --help >/dev/null || ok=0
  if [[ $ok == 1 ]]; then
    sql "CREATE DATABASE $db"
    run alembic -c "/app/$folder/alembic.ini" upgrade head >/dev/null 2>&1 || { echo "   migrations failed" >&2; ok=0; }
  fi
  if [[ $ok == 1 ]]; then
    run uvicorn "$c.main:app" --host 127.0.0.1 --port "$port" >"/tmp/smoke-$c.log" 2>&1 &
    pid=$!
    ready=0
    for _ in $(seq 60); do
      if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
      sleep 1
    done
    { curl -sS "http://127.0.0.1:$port/readyz" 2>/dev/null || true; } | head -c 300; echo
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ $ready == 1 ]] || { echo "   not ready; log: /tmp/smoke-$c.log" >&2; ok=0; }
  fi
  buildah rm "$ctr" >/dev/null
  ctr=""
  sql "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  db=""
  echo "   $c: $([[ $ok == 1 ]] && echo ok || echo FAILED) in $(( $(date +%s) - start ))s"
  [[ $ok == 1 ]] || failed+=("$c")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "smoke FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "smoke ok: ${components[*]}"
