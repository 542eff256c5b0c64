#!/usr/bin/env bash
# Installs the Debian packages the real-peer tests need, only those that are missing, and says so.
set -euo pipefail
# binary -> Debian package
declare -A need=(
  [tshark]=tshark
  [tcpdump]=tcpdump
  [openssl]=openssl
  [curl]=curl
  [nginx]=nginx
  [tor]=tor
  [iptables]=iptables
  [ip]=iproute2
  [chromium]=chromium
  [ethtool]=ethtool
  [ss]=iproute2
  [sysctl]=procps
  [tor-resolve]=tor
  [editcap]=wireshark-common
)
missing=()
for bin in "${!need[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${need[$bin]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
  command -v sudo >/dev/null || { echo "deps: need root to apt-get install ${missing[*]}" >&2; exit 1; }
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
