#!/usr/bin/env bash
# `make images`: one OCI image per component, built without Docker and without any container registry.
#
#   deploy/images/build.sh [component...]      default: gateway and every services/*/ (fupin/<c>:${FUPIN_IMAGE_TAG:-dev})
#
# No registry is reachable here, so there is no python:3.11-slim to start FROM. The base is made locally instead:
#   1. base rootfs: debootstrap (minbase) of Debian bookworm from the Debian package mirror, with python3.11 and
#      python3.11-venv, a user fupin (10001); cached as .cache/images/base-<hash>.tar (git-ignored)
#   2. wheels: `pip wheel` of fupin-kit, fupin-events, fupin-ops and the components into .cache/images/wheels (offline
#      when the wheels already there satisfy everything)
#   3. a shared layer fupin/runtime:<hash>: `buildah from scratch`, the base unpacked, /opt/venv with every
#      third-party wheel installed offline (chroot); rebuilt only when the base or a dependency changes
#   4. per component: `buildah from` that layer, its own wheels (fupin-kit, fupin-events, fupin-ops with the operator's
#      `fupin-dlq`, fupin-<c>) installed with --no-deps and `pip check`, its alembic.ini + migrations in
#      /app/<folder>, user/port/command set,
#      `buildah commit` -> containers-storage fupin/<c>:<tag> (push with `buildah push` to your registry).
#      The images share the base and runtime layers, so a registry stores and pulls them once.
# Same layout as deploy/docker/Dockerfile (which a registry-connected CI can build with docker/buildah bud).
# Needs root (or `buildah unshare`), buildah and debootstrap: `apt-get install buildah debootstrap`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$REPO/.cache/images
TAG=${FUPIN_IMAGE_TAG:-dev}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3.11,python3.11-venv,python3-distutils,ca-certificates,tzdata

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
# Built from a copy of the sources: setuptools writes build/ and *.egg-info next to the sources it builds, and the
# repository is a shared working tree.
SRC=$CACHE/src
rm -rf "$SRC"
projects=()
for folder in libs/fupin_kit libs/fupin_events libs/fupin_ops $(for c in "${components[@]}"; do folder_of "$c"; done); do
  mkdir -p "$SRC/$folder"
  tar -C "$REPO/$folder" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ --exclude=tests -cf - . |
    tar -C "$SRC/$folder" -xf -
  projects+=("$SRC/$folder")
done
log "pip wheel -> $WHEELS"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/fupin_*.whl
# A small build environment (setuptools + wheel), made once: the projects' wheels are then built without an isolated
# build environment each, and offline when the wheels already there satisfy every requirement.
BUILDENV=$CACHE/buildenv
if [[ ! -x $BUILDENV/bin/pip ]]; then
  "$REPO/.venv/bin/python" -m venv "$BUILDENV"
  "$BUILDENV/bin/pip" install -q 'setuptools>=68' wheel >&2
fi
build_wheels() { "$BUILDENV/bin/pip" wheel -q --no-build-isolation --find-links "$WHEELS" --wheel-dir "$WHEELS" "$@" "${projects[@]}"; }
build_wheels --no-index >/dev/null 2>&1 || build_wheels >&2

in_root() {  # in_root MOUNT COMMAND: run COMMAND in the image's root, nothing of the host's environment leaking in
  chroot "$1" /usr/bin/env -i PATH=/opt/venv/bin:/usr/bin:/bin HOME=/tmp PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 sh -c "$2"
}

# --- 3. the shared layer: base + a virtualenv with every third-party wheel ------------------------------------------
third_party=$(cd "$WHEELS" && ls ./*.whl | grep -v '^./fupin_' | sort)
runtime_key=$( (echo "$base_key"; echo "$third_party") | sha256sum | cut -c1-12)
RUNTIME=fupin/runtime:$runtime_key
if ! buildah inspect --type image "$RUNTIME" >/dev/null 2>&1; then
  log "$RUNTIME (base + /opt/venv with $(echo "$third_party" | wc -l) third-party wheels)"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  tar --numeric-owner -C "$mnt" -xf "$BASE_TAR"
  mkdir -p "$mnt/wheels"
  for w in $third_party; do cp "$WHEELS/$w" "$mnt/wheels/"; done
  in_root "$mnt" "python3.11 -m venv /opt/venv && pip install -q --no-index --no-deps /wheels/*.whl"
  rm -rf "$mnt/wheels"
  find "$mnt/opt/venv" -name __pycache__ -prune -exec rm -rf {} +
  buildah umount "$ctr" >/dev/null
  buildah commit -q --rm "$ctr" "$RUNTIME" >/dev/null
fi

# --- 4. one image per component: the runtime layer + fupin-kit, fupin-events, fupin-ops, the component, migrations -
for c in "${components[@]}"; do
  folder=$(folder_of "$c")
  image=fupin/$c:$TAG
  log "$image"
  ctr=$(buildah from "$RUNTIME")
  mnt=$(buildah mount "$ctr")
  mkdir -p "$mnt/wheels" "$mnt/app/$folder"
  # fupin-ops: the operator's tools (fupin-dlq) in every image, so a one-off Job can run any component's image
  cp "$WHEELS"/fupin_kit-*.whl "$WHEELS"/fupin_events-*.whl "$WHEELS"/fupin_ops-*.whl "$WHEELS/fupin_${c}-"*.whl \
    "$mnt/wheels/"
  # --no-deps over the runtime layer, then pip check: the component's requirements are all in that layer
  in_root "$mnt" "pip install -q --no-index --no-deps /wheels/*.whl && pip check >/dev/null"
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
    --cmd '["sh", "-c", "exec uvicorn \"${FUPIN_APP_MODULE}:app\" --host 0.0.0.0 --port 8080 --timeout-keep-alive 75"]' \
    "$ctr"
  buildah commit -q --rm "$ctr" "$image" >/dev/null
done
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "fupin/($(IFS='|'; echo "${components[*]}")):$TAG" >&2 || true
