#!/usr/bin/env bash
# Creates the Secrets that the dev overlay (deploy/k8s/overlays/dev) expects, with random values, in namespace fupin
# of the current kubectl context. Nothing secret is committed to git, not even for dev. An existing Secret is kept
# (re-running must not change a database password behind CloudNativePG's back). Needs openssl (and kubectl to apply).
#
#   deploy/dev-secrets.sh            create the missing Secrets in the cluster
#   deploy/dev-secrets.sh --print    print them as YAML instead (no cluster needed; tests/deploy uses this)
#
# Prod does not use this script: its Secrets come from the secret store (deploy/README.md, "Secrets").
set -euo pipefail

NS=fupin
COMPONENTS=(gateway registry finance microcredit education medical assistance welfare dashboard)
POOLER_HOST=fupin-pg-pooler-rw.${NS}.svc:5432
mode=apply
[[ "${1:-}" == "--print" ]] && mode=print

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rand() { openssl rand -hex 24; }
b64() { base64 -w0; }

exists() {
  [[ $mode == apply ]] && kubectl -n "$NS" get secret "$1" >/dev/null 2>&1
}

# secret NAME TYPE KEY=FILE...: one Secret whose keys hold the files' bytes
secret() {
  local name=$1 type=$2
  shift 2
  if exists "$name"; then
    echo "secret/$name exists, kept" >&2
    return
  fi
  {
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$name" "$NS"
    printf '  labels:\n    app.kubernetes.io/part-of: fupin\ntype: %s\ndata:\n' "$type"
    local pair
    for pair in "$@"; do
      printf '  %s: %s\n' "${pair%%=*}" "$(b64 <"${pair#*=}")"
    done
  } >"$work/secret.yaml"
  if [[ $mode == print ]]; then
    cat "$work/secret.yaml"
  else
    kubectl apply -f "$work/secret.yaml"
  fi
}

value() {  # value FILE TEXT: write TEXT (no newline) to FILE under $work, print its path
  printf '%s' "$2" >"$work/$1"
  echo "$work/$1"
}

for c in "${COMPONENTS[@]}"; do
  pw=$(rand)
  # basic-auth: the CloudNativePG managed role reads username/password; the app and its migration Job read
  # database-url (through the session-mode PgBouncer pooler).
  secret "fupin-$c-db" kubernetes.io/basic-auth username="$(value u "$c")" password="$(value p "$pw")" \
    database-url="$(value url "postgresql+asyncpg://$c:$pw@$POOLER_HOST/$c")"
done

secret fupin-pseudonym Opaque key="$(value key "$(rand)$(rand)")"

# The gateway's API clients file; empty: in the dev profile the demo clients of contract §0 are built in.
secret fupin-gateway-clients Opaque clients.json="$(value clients.json '[]')"

# One RS256 key pair per cluster: the gateway signs with the private key, every component verifies.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$work/private.pem" 2>/dev/null
openssl pkey -in "$work/private.pem" -pubout -out "$work/public.pem"
if ! exists fupin-jwt-signing; then
  secret fupin-jwt-signing Opaque private.pem="$work/private.pem"
  if [[ $mode == apply ]]; then  # a new private key: its public key replaces the old one
    kubectl -n "$NS" delete secret fupin-jwt-verify --ignore-not-found >/dev/null
  fi
fi
secret fupin-jwt-verify Opaque public.pem="$work/public.pem"

# The dev MinIO that receives the backups (your MinIO's credentials; these are a throwaway MinIO's defaults).
secret fupin-pg-backup-s3 Opaque ACCESS_KEY_ID="$(value ak "${MINIO_ACCESS_KEY:-minioadmin}")" \
  ACCESS_SECRET_KEY="$(value sk "${MINIO_SECRET_KEY:-minioadmin}")"
