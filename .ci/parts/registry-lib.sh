# shellcheck shell=bash
# A REAL OCI registry (CNCF distribution 2.8.2, Debian's `docker-registry`) on loopback, with TLS
# from a throw-away CA and htpasswd basic auth, for end-to-end tests of the registry client.
#
# This file is a library: `source` it from a CI part (it sets no shell options of its own and is
# safe under `set -euo pipefail`). Typical use:
#
#   source .ci/parts/registry-lib.sh
#   registry_install
#   W="$PWD/target/ci-registry"; rm -rf "$W"
#   trap 'registry_stop "$W"' EXIT
#   registry_start "$W" 5443
#   curl --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "https://$REGISTRY_HOST/v2/"
#
# Functions:
#   registry_install               apt-installs docker-registry skopeo apache2-utils openssl curl
#                                  (only the missing ones)
#   registry_start WORKDIR PORT    CA + server cert + htpasswd + config.yml in WORKDIR, starts the
#                                  registry on https://127.0.0.1:PORT and waits until it answers
#   registry_stop WORKDIR          stops the instance registry_start recorded (always returns 0)
#   registry_blob_path DIGEST      prints the file that holds blob DIGEST in the registry's storage
#
# Exported by registry_start:
#   REGISTRY_HOST      127.0.0.1:PORT
#   REGISTRY_CA        WORKDIR/ca.crt            (the CA that signed the server certificate)
#   REGISTRY_CERT_DIR  WORKDIR/certs.d           (holds only ca.crt: for skopeo --*-cert-dir)
#   REGISTRY_USER      ouk
#   REGISTRY_PASSWORD  ouk-test-password         (also in WORKDIR/password.txt)
#   REGISTRY_DATA      WORKDIR/data              (the filesystem driver's root directory)
#
# Files in WORKDIR: ca.crt ca.key server.crt server.key htpasswd password.txt config.yml
# registry.log registry.pid data/ certs.d/ca.crt.

# The user and password are fixed test values, not secrets: tests may print them.
REGISTRY_TEST_USER=ouk
REGISTRY_TEST_PASSWORD=ouk-test-password

registry_install() {
  # Map each needed command to the Debian package that ships it; install only what is missing so
  # that a warm machine (or a second call) costs nothing and needs no network.
  local -a need=()
  command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
  command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  [ "${#need[@]}" -eq 0 ] && return 0

  # docker-registry's maintainer script would start Debian's own instance on :5000 wherever an
  # init system answers. A policy-rc.d that says 101 ("action forbidden") is Debian's standard way
  # to keep packages from starting services; put it in place only for this install and only if
  # the machine has none of its own. (Our instance never uses :5000 anyway.)
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  local rc=0
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
      >/dev/null; } || rc=$?
  [ "$own_policy" -eq 1 ] && rm -f "$policy"
  if [ "$rc" -ne 0 ]; then
    echo "registry_install: apt-get failed (exit $rc) installing: ${need[*]}" >&2
    return "$rc"
  fi
  command -v docker-registry >/dev/null 2>&1 || {
    echo "registry_install: docker-registry is still not on PATH" >&2
    return 1
  }
}

# Writes a private CA and a server certificate for 127.0.0.1 and localhost into DIR.
# EC P-256 keys: fast to make and accepted by rustls/webpki, OpenSSL and Go alike. The server
# certificate is a proper leaf (CA:FALSE, serverAuth, SAN; webpki ignores the CN) so that strict
# clients accept it; the CA is valid 2 days, enough for any CI run.
_registry_make_tls() {
  local dir="$1"
  # Every step ends in `|| return`: callers may run us in an `if`/`||`, where set -e is off.
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null || return
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 2 -subj "/CN=ouk test registry CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt" 2>/dev/null || return
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key" 2>/dev/null || return
  openssl req -new -key "$dir/server.key" -subj "/CN=127.0.0.1" \
    -out "$dir/server.csr" 2>/dev/null || return
  cat >"$dir/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  # A random serial instead of -CAcreateserial: no ca.srl file, and no serial reuse across runs.
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 2 -sha256 -extfile "$dir/server.ext" \
    -out "$dir/server.crt" 2>/dev/null || return
  rm -f "$dir/server.csr" "$dir/server.ext"
  # containers/image (skopeo) reads every *.key in a --cert-dir as a client key and fails when its
  # *.cert is missing, so it gets a directory that holds the CA certificate alone.
  mkdir -p "$dir/certs.d" && cp "$dir/ca.crt" "$dir/certs.d/ca.crt"
}

registry_start() {
  if [ "$#" -ne 2 ]; then
    echo "usage: registry_start WORKDIR PORT" >&2
    return 2
  fi
  local port="$2" dir
  case "$port" in '' | *[!0-9]*) echo "registry_start: bad PORT '$port'" >&2; return 2 ;; esac
  mkdir -p "$1" || return
  # Absolute: the registry's config and the exports must not depend on the caller's cwd.
  dir="$(cd "$1" && pwd)" || return
  # A previous instance in the same WORKDIR (a crashed run without its trap) would hold the port.
  registry_stop "$dir"

  _registry_make_tls "$dir" || {
    echo "registry_start: openssl failed" >&2
    return 1
  }
  htpasswd -Bbn "$REGISTRY_TEST_USER" "$REGISTRY_TEST_PASSWORD" >"$dir/htpasswd" || return
  printf '%s' "$REGISTRY_TEST_PASSWORD" >"$dir/password.txt" || return
  mkdir -p "$dir/data" || return

  # http.secret signs upload-session state; set one so that the registry does not warn about
  # generating a random one. health.storagedriver is off: its periodic probe is noise here.
  local secret
  secret=$(openssl rand -hex 16) || return
  cat >"$dir/config.yml" <<EOF || return
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $secret
  tls:
    certificate: $dir/server.crt
    key: $dir/server.key
auth:
  htpasswd:
    realm: ouk-test-registry
    path: $dir/htpasswd
health:
  storagedriver:
    enabled: false
EOF

  # distribution overrides config keys from REGISTRY_<SECTION>_<KEY> environment variables, so
  # our own exports (REGISTRY_HOST, ...) or a stray REGISTRY_HTTP_ADDR in the caller's environment
  # would reach it: start it with every REGISTRY_* variable removed.
  local -a unset_args=()
  local v
  for v in $(compgen -e); do
    case "$v" in REGISTRY_*) unset_args+=(-u "$v") ;; esac
  done
  # `env` execs the registry, so $! is the registry's own pid. stdin from /dev/null: CI has none.
  env "${unset_args[@]}" docker-registry serve "$dir/config.yml" \
    </dev/null >"$dir/registry.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/registry.pid"

  export REGISTRY_HOST="127.0.0.1:$port"
  export REGISTRY_CA="$dir/ca.crt"
  export REGISTRY_CERT_DIR="$dir/certs.d"
  export REGISTRY_USER="$REGISTRY_TEST_USER"
  export REGISTRY_PASSWORD="$REGISTRY_TEST_PASSWORD"
  export REGISTRY_DATA="$dir/data"

  # Ready = TLS verifies with our CA, /v2/ refuses anonymous access (401) and accepts our user
  # (200). Checking 401 first proves auth is really on; checking 200 proves the htpasswd works.
  local url="https://$REGISTRY_HOST/v2/" anon="" authed="" i
  for ((i = 0; i < 150; i++)); do # 150 x 0.2 s = 30 s
    if ! _registry_alive "$pid"; then
      echo "registry_start: docker-registry exited; its log ($dir/registry.log):" >&2
      cat "$dir/registry.log" >&2
      rm -f "$dir/registry.pid"
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    anon=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$REGISTRY_CA" "$url" ||
      true)
    if [ "$anon" = 401 ]; then
      authed=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$REGISTRY_CA" \
        -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$url" || true)
      [ "$authed" = 200 ] && return 0
    fi
    sleep 0.2
  done
  echo "registry_start: no ready answer from $url within 30 s (anonymous: ${anon:-none}," \
    "with credentials: ${authed:-not tried}); its log:" >&2
  cat "$dir/registry.log" >&2
  registry_stop "$dir"
  return 1
}

registry_stop() {
  # Meant for `trap ... EXIT`: never fails, is a no-op without a pid file, and may run twice.
  local dir="${1:-}" pid i
  [ -n "$dir" ] && [ -f "$dir/registry.pid" ] || return 0
  pid=$(cat "$dir/registry.pid" 2>/dev/null || true)
  rm -f "$dir/registry.pid"
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  # Only signal the process if it is still our registry: after a reboot or a long pause the pid
  # may belong to something else.
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "serve $dir/config.yml" >/dev/null; then
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # Go's default SIGTERM action ends the registry at once (no http.draintimeout is set). Poll
  # rather than `wait` alone: `wait` only works in the shell that started it, and would block
  # forever if the process ignored the signal. A zombie (exited, not yet reaped) counts as gone.
  for ((i = 0; i < 50; i++)); do
    _registry_alive "$pid" || break
    sleep 0.1
  done
  if _registry_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Reap it if it is this shell's child (no "Terminated" noise, no zombie); elsewhere a no-op.
  wait "$pid" 2>/dev/null || true
  return 0
}

_registry_alive() { # PID: running and not a zombie
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ]
}

registry_blob_path() {
  # distribution's filesystem layout: <root>/docker/registry/v2/blobs/<alg>/<2 hex>/<hex>/data.
  local digest="${1:-}"
  if ! [[ "$digest" =~ ^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$ ]]; then
    echo "registry_blob_path: not a digest: '$digest'" >&2
    return 2
  fi
  local alg="${digest%%:*}" hex="${digest#*:}"
  printf '%s/docker/registry/v2/blobs/%s/%s/%s/data\n' \
    "${REGISTRY_DATA:?registry_blob_path: run registry_start first}" "$alg" "${hex:0:2}" "$hex"
}
