#!/usr/bin/env bash
# The real tools every test runs, from Debian's own suites, by package name:
#   1. bookworm's prometheus and prometheus-alertmanager installed system-wide when missing
#      (/usr/bin/promtool, amtool, prometheus, prometheus-alertmanager: 2.42 and 0.25);
#   2. the pinned release lines below, fetched with apt-get download through a sources list,
#      package lists and cache of our own (the machine's apt sources are never changed), unpacked
#      with dpkg-deb -x into a versioned directory each under the tools directory (default
#      .tools/ at the repository root, ignored by git; BZZZMON_TOOLS_DIR moves it), and listed
#      with the versions that were fetched in $TOOLS_DIR/manifest.tsv, which bzzzmon reads.
# A second run with the same pins finds the manifest and its files and touches no network.
# sid moves: its pins are release lines, and a line sid no longer carries is an error naming the
# version it has now (change the pin here, and say so in docs/compatibility.md).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS_DIR="${BZZZMON_TOOLS_DIR:-$ROOT/.tools}"
MANIFEST="$TOOLS_DIR/manifest.tsv"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# suite  package  release-line (an upstream version or its prefix, matched at a dot)
PINS="
bookworm prometheus 2.42.0
bookworm prometheus-alertmanager 0.25.0
trixie prometheus 2.53.3
trixie promtool 2.53.3
trixie prometheus-alertmanager 0.28.1
sid prometheus 3.5
sid promtool 3.5
sid prometheus-alertmanager 0.33
sid victoria-metrics 1.145
"
# The binaries bzzzmon looks for, by the package that ships them (Debian renames alertmanager;
# `?`: only some suites ship it there: promtool has its own package from trixie on).
binaries_of() {
  case "$1" in
    prometheus) echo "prometheus promtool?" ;;
    promtool) echo "promtool" ;;
    prometheus-alertmanager) echo "prometheus-alertmanager:alertmanager amtool" ;;
    victoria-metrics) echo "victoria-metrics vmalert vmalert-tool vmagent" ;;
  esac
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

say() { echo "install-tools: $*" >&2; }

# 1. The system-wide bookworm tools, as before (other tools and the docs rely on /usr/bin).
need=()
for tool in promtool prometheus amtool prometheus-alertmanager; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  say "missing ${need[*]}; installing prometheus and prometheus-alertmanager"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
  # The packages start their services where a service manager runs; tests use their own ports
  # and must not find stray servers on 9090/9093.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus prometheus-alertmanager prometheus-node-exporter \
      >/dev/null 2>&1 || true
  fi
fi

# 2. The version matrix under $TOOLS_DIR.
pins_id="$(printf '%s' "$PINS" | sha256sum | cut -c1-16)"
manifest_ok() {
  [ -f "$MANIFEST" ] && grep -qx "# pins $pins_id" "$MANIFEST" || return 1
  local suite tool version debversion path
  while IFS=$'\t' read -r suite tool version debversion path; do
    case "$suite" in '#'* | '') continue ;; esac
    [ -x "$TOOLS_DIR/$path" ] || return 1
  done <"$MANIFEST"
}
if manifest_ok; then
  say "reusing $TOOLS_DIR ($(grep -vc '^#' "$MANIFEST") tools in manifest.tsv)"
  exit 0
fi

# The mirror the machine already uses for Debian (named by its own sources, never here).
mirror="${BZZZMON_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; break}}'
    } | grep -v -- '-security' | grep '/debian/\?$' | head -n1 || true
  )"
fi
if [ -z "$mirror" ]; then
  say "no Debian mirror in the machine's apt sources; set BZZZMON_DEBIAN_MIRROR to one"
  exit 2
fi
if [ ! -f "$KEYRING" ]; then
  say "installing debian-archive-keyring"
  $SUDO apt-get install -y -qq --no-install-recommends debian-archive-keyring >/dev/null
fi

APT="$TOOLS_DIR/.apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$APT/prefs" "$APT/debs"
: >"$APT/sources.list"
for suite in $(printf '%s\n' "$PINS" | awk 'NF {print $1}' | sort -u); do
  echo "deb [signed-by=$KEYRING] $mirror $suite main" >>"$APT/sources.list"
done
# Only our sources, no pins or holds of the machine, no dpkg status: a private apt.
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APT/sources.list"
  -o "Dir::Etc::SourceParts=$APT/parts"
  -o "Dir::Etc::Preferences=$APT/prefs/none"
  -o "Dir::Etc::PreferencesParts=$APT/prefs"
  -o "Dir::State::Lists=$APT/lists"
  -o "Dir::Cache=$APT/cache"
  -o "Dir::State::status=/dev/null"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
)
say "fetching package lists of $(awk '{print $4}' "$APT/sources.list" | xargs) into $APT"
apt-get "${APT_OPTS[@]}" -qq update

upstream() { sed -E 's/^[0-9]+://; s/[+~-].*$//' <<<"$1"; }
# The newest version of $pkg in $suite whose upstream version is $line or starts with "$line.".
pick() {
  local pkg="$1" suite="$2" line="$3" v
  apt-cache "${APT_OPTS[@]}" madison "$pkg" |
    awk -F'|' -v s=" $suite/" 'index($3, s) {gsub(/ /, "", $2); print $2}' |
    while read -r v; do
      case "$(upstream "$v")" in "$line" | "$line".*) echo "$v" ;; esac
    done | head -n1
}

rows=()
while read -r suite pkg line; do
  [ -n "$suite" ] || continue
  debversion="$(pick "$pkg" "$suite" "$line")"
  if [ -z "$debversion" ]; then
    has="$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F'|' -v s=" $suite/" \
      'index($3, s) {gsub(/ /, "", $2); print $2}' | xargs)"
    say "$suite has no $pkg $line (it has: ${has:-none}); update the pin in $0"
    exit 1
  fi
  version="$(upstream "$debversion")"
  dir="$pkg-$version"
  if [ "$(cat "$TOOLS_DIR/$dir/.debversion" 2>/dev/null)" != "$debversion" ]; then
    say "$suite: $pkg $debversion -> $TOOLS_DIR/$dir"
    (cd "$APT/debs" && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$debversion")
    deb="$(ls "$APT/debs/${pkg}_${debversion#*:}_"*.deb)"
    rm -rf "$TOOLS_DIR/$dir.tmp"
    dpkg-deb -x "$deb" "$TOOLS_DIR/$dir.tmp"
    echo "$debversion" >"$TOOLS_DIR/$dir.tmp/.debversion"
    rm -rf "$TOOLS_DIR/$dir" && mv "$TOOLS_DIR/$dir.tmp" "$TOOLS_DIR/$dir"
    rm -f "$deb"
  fi
  for spec in $(binaries_of "$pkg"); do
    optional="" && [ "${spec%\?}" != "$spec" ] && optional=1 && spec="${spec%\?}"
    file="${spec%%:*}" tool="${spec##*:}"
    if [ ! -x "$TOOLS_DIR/$dir/usr/bin/$file" ]; then
      [ -n "$optional" ] && continue
      say "$pkg $debversion has no usr/bin/$file"
      exit 1
    fi
    rows+=("$suite"$'\t'"$tool"$'\t'"$version"$'\t'"$debversion"$'\t'"$dir/usr/bin/$file")
  done
done <<<"$PINS"

{
  echo "# bzzzmon tools: written by scripts/install-tools.sh; read by bzzzmon.verify.discovery"
  echo "# pins $pins_id"
  echo "# suite	tool	version	debian-version	path (relative to this directory)"
  printf '%s\n' "${rows[@]}"
} >"$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
say "wrote $MANIFEST:"
grep -v '^#' "$MANIFEST" | awk -F'\t' '{printf "  %-8s %-12s %s\n", $1, $2, $4}' >&2
