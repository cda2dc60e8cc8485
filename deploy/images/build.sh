#!/usr/bin/env bash
# `make images`: one OCI image per component, built without Docker and without any container registry.
#
#   deploy/images/build.sh [component...]      default: gateway and every services/*/ (fupin/<c>:${FUPIN_IMAGE_TAG:-dev})
#
# No registry is reachable here, so there is no python:3.11-slim to start FROM. The base is made locally instead:
#   1. base rootfs: debootstrap (minbase) of Debian bookworm from the Debian package mirror, with python3.11 and
#      python3.11-venv, a user fupin (10001); cached as .cache/images/base-<hash>.tar (git-ignored)
#   2. wheels: `pip wheel` of fupin-kit, fupin-events and the components, once, into .cache/images/wheels
#   3. per component: `buildah from scratch`, unpack the base, create /opt/venv and install the component's wheels
#      offline inside it (chroot), copy its alembic.ini + migrations to /app/<folder>, set user/port/command,
#      `buildah commit` -> containers-storage fupin/<c>:<tag> (push with `buildah push` to your registry).
# Same layout as deploy/docker/Dockerfile (which a registry-connected CI can build with docker/buildah bud).
# Needs root (or `buildah unshare`), buildah and debootstrap: `apt-get install buildah debootstrap`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$REPO/.cache/images
TAG=${FUPIN_IMAGE_TAG:-dev}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3.11,python3.11-venv,python3-distutils,ca-certificates,tzdata
PIP=${PIP:-$REPO/.venv/bin/pip}

log() { printf '==> %s\n' "$*" >&2; }

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install buildah debootstrap" >&2; exit 2; }
done

if [[ $# -gt 0 ]]; then
  components=("$@")
else
  components=(gateway)
  for d in "$REPO"/services/*/; do
    [[ -f "$d/pyproject.toml" ]] && components+=("$(basename "$d")")
  done
fi

folder_of() { if [[ $1 == gateway ]]; then echo gateway; else echo "services/$1"; fi; }

mkdir -p "$CACHE"
base_key=$(printf '%s %s %s 10001' "$SUITE" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-12)
BASE_TAR=$CACHE/base-$base_key.tar

# --- 1. base rootfs ---------------------------------------------------------------------------------------------
if [[ ! -f $BASE_TAR ]]; then
  log "debootstrap $SUITE (minbase + $PACKAGES) -> $BASE_TAR"
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
    # debootstrap's resolver can leave a dependency unconfigured; apt in the new root finishes the job
    [[ -x "$root/usr/bin/apt-get" ]] || { tail -5 "$CACHE/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    chroot "$root" sh -c "DEBIAN_FRONTEND=noninteractive apt-get -q -f install -y" >>"$CACHE/debootstrap.log" 2>&1
  }
  chroot "$root" sh -c 'groupadd --system --gid 10001 fupin &&
    useradd --system --uid 10001 --gid fupin --home-dir /tmp --no-create-home --shell /usr/sbin/nologin fupin &&
    apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/* &&
    : >/etc/resolv.conf'
  chroot "$root" python3.11 -c 'import venv, ensurepip'  # the venv module and its bundled pip are there
  tar --numeric-owner -C "$root" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$root"
fi

# --- 2. wheels ------------------------------------------------------------------------------------------------------
WHEELS=$CACHE/wheels
projects=("$REPO/libs/fupin_kit" "$REPO/libs/fupin_events")
for c in "${components[@]}"; do projects+=("$REPO/$(folder_of "$c")"); done
log "pip wheel -> $WHEELS"
rm -f "$WHEELS"/fupin_*.whl
"$PIP" wheel -q --wheel-dir "$WHEELS" "${projects[@]}" >&2

# --- 3. images ------------------------------------------------------------------------------------------------------
for c in "${components[@]}"; do
  folder=$(folder_of "$c")
  image=fupin/$c:$TAG
  log "$image"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  tar --numeric-owner -C "$mnt" -xf "$BASE_TAR"
  mkdir -p "$mnt/wheels" "$mnt/app/$folder"
  cp "$WHEELS"/*.whl "$mnt/wheels/"
  # env -i: nothing of the host's environment (pip settings, proxies) leaks into the image's build
  chroot "$mnt" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp sh -c "python3.11 -m venv /opt/venv &&
    PIP_NO_CACHE_DIR=1 /opt/venv/bin/pip install -q --no-index --find-links /wheels fupin-kit fupin-events fupin-$c &&
    /opt/venv/bin/pip uninstall -q -y pip setuptools >/dev/null 2>&1 || true"
  rm -rf "$mnt/wheels"
  find "$mnt/opt/venv" -name __pycache__ -prune -exec rm -rf {} +
  cp -r "$REPO/$folder/alembic.ini" "$REPO/$folder/migrations" "$mnt/app/$folder/"
  find "$mnt/app" -name __pycache__ -prune -exec rm -rf {} +
  buildah umount "$ctr" >/dev/null
  buildah config \
    --user 10001:10001 --workingdir /app --port 8080 \
    --env PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env PYTHONDONTWRITEBYTECODE=1 --env PYTHONUNBUFFERED=1 --env HOME=/tmp \
    --env FUPIN_APP_MODULE="$c.main" \
    --label org.opencontainers.image.title="fupin-$c" \
    --label org.opencontainers.image.source="deploy/images/build.sh" \
    --cmd '["sh", "-c", "exec uvicorn \"${FUPIN_APP_MODULE}:app\" --host 0.0.0.0 --port 8080"]' \
    "$ctr"
  buildah commit -q --rm "$ctr" "$image" >/dev/null
done
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "fupin/($(IFS='|'; echo "${components[*]}")):$TAG" >&2 || true
