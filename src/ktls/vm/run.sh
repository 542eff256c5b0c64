#!/usr/bin/env bash
# `make test-ktls-vm`: boots Debian's kernel (CONFIG_TLS=m) under QEMU from an initramfs holding
# node, openssl, the addon, the bundled guest test and the tls module (notes §10), and passes only if
# every RESULT line in the serial log passed. Made for a fresh Debian 12 CI machine: installs what is
# missing with apt-get (qemu-system-x86, busybox-static, cpio), takes the kernel and its modules out
# of the linux-image-amd64 package with `apt-get download` (never installs a kernel), uses KVM when
# /dev/kvm is usable and TCG otherwise, prints progress, and stops after a global time budget.
#
# Environment: KTLS_VM_TIMEOUT (s, whole run, default 900), KTLS_VM_BENCH_MIB (guest bench size,
# default 32: three paths x2 runs must fit the ~2.5 min budget under TCG; 0 skips it), KTLS_VM_CACHE (where the kernel package is kept, default
# ~/.cache/sultry-ktls-vm), KVER (use /boot/vmlinuz-KVER and /lib/modules/KVER instead).
# Exit: 0 all passed; 1 a check failed; 2 setup failed; 124 the time budget ran out.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BUDGET=${KTLS_VM_TIMEOUT:-900}
BENCH_MIB=${KTLS_VM_BENCH_MIB:-32}
CACHE=${KTLS_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sultry-ktls-vm}
T0=$(date +%s)
STEP=start
say() { echo "test-ktls-vm [$(($(date +%s) - T0))s] $*"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
die() { say "FAIL during '$STEP': $*"; exit "${2:-2}"; }
timed_out() { say "TIMEOUT: the whole run may take ${BUDGET}s (KTLS_VM_TIMEOUT); '$STEP' was still running"; exit 124; }
# Runs a setup command within what is left of the budget.
within() {
  local rc=0
  [ "$(left)" -gt 0 ] || timed_out
  timeout "$(left)" "$@" || rc=$?
  [ $rc -eq 124 ] && timed_out
  return $rc
}
[ "$(left)" -gt 0 ] || die "KTLS_VM_TIMEOUT must be positive"

STEP=packages
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v busybox >/dev/null || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  [ -z "$SUDO" ] || command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  within $SUDO apt-get update -qq || die "apt-get update failed"
  within $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

STEP=kernel
if [ -n "${KVER:-}" ]; then
  VMLINUZ=/boot/vmlinuz-$KVER
  MODS=/lib/modules/$KVER
else
  # The package linux-image-amd64 depends on (e.g. linux-image-6.1.0-57-amd64), unpacked, not installed.
  PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$PKG" ]; then
    say "apt-get update (no linux-image-amd64 in the package lists yet)"
    within $SUDO apt-get update -qq || die "apt-get update failed"
    PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  [ -n "$PKG" ] || die "apt-cache cannot resolve linux-image-amd64"
  KVER=${PKG#linux-image-}
  DIR=$CACHE/$PKG
  if [ ! -f "$DIR/boot/vmlinuz-$KVER" ]; then
    say "apt-get download $PKG"
    mkdir -p "$CACHE"
    rm -rf "$DIR" "$CACHE"/*.deb
    [ "$(left)" -gt 0 ] || timed_out
    # (as root apt warns that it downloads unsandboxed: harmless, filtered)
    (cd "$CACHE" && timeout "$(left)" apt-get download "$PKG" 2>&1 | grep -v 'unsandboxed' || true)
    [ "$(left)" -gt 0 ] || timed_out
    deb=$(ls "$CACHE"/"${PKG}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "apt-get download $PKG produced no .deb"
    # Only the kernel image and the module directories the initramfs takes (~15 MB, not ~400 MB).
    mkdir -p "$DIR"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$DIR" --wildcards './boot/vmlinuz-*' './lib/modules/*/modules.*' \
      './lib/modules/*/kernel/crypto/*' './lib/modules/*/kernel/arch/x86/crypto/*' './lib/modules/*/kernel/lib/crypto/*' \
      './lib/modules/*/kernel/net/tls/*' || die "unpacking $deb failed"
    rm -f "$deb"
  fi
  VMLINUZ=$DIR/boot/vmlinuz-$KVER
  MODS=$DIR/lib/modules/$KVER
fi
[ -f "$VMLINUZ" ] || die "$VMLINUZ missing"
ls "$MODS"/kernel/net/tls/tls.ko* >/dev/null 2>&1 || die "$MODS has no net/tls module"

STEP=addon
[ -f "$REPO/native/build/Release/sultry_ktls.node" ] || within make -C "$REPO" native || die "make native failed"
[ -x "$REPO/node_modules/.bin/esbuild" ] || die "node_modules/.bin/esbuild missing (npm ci)"

STEP=initramfs
say "building the initramfs ($KVER)"
WORK=$(mktemp -d /tmp/sultry-ktls-vm.XXXXXX)
# Keep only the serial log: the image is ~50 MB per run.
trap 'rm -rf "$WORK/root" "$WORK/initramfs.cpio.gz"' EXIT
ROOT=$WORK/root
mkdir -p $ROOT/{bin,sbin,proc,sys,dev,tmp,etc,usr/bin,usr/lib/ssl,lib/x86_64-linux-gnu,lib64,t/pki,t/native/build/Release}
cp "$(command -v busybox)" $ROOT/bin/busybox
for a in sh mount insmod modprobe ip cat echo grep ls sleep uname dmesg poweroff tr; do ln -s busybox $ROOT/bin/$a; done
ln -s ../bin/busybox $ROOT/sbin/poweroff
cp "$(command -v node)" "$(command -v openssl)" $ROOT/usr/bin/
for lib in $(ldd "$(command -v node)" "$(command -v openssl)" "$(command -v busybox)" 2>/dev/null | awk '/=>/ {print $3}' | sort -u); do cp -L "$lib" $ROOT/lib/x86_64-linux-gnu/; done
cp -L /lib64/ld-linux-x86-64.so.2 $ROOT/lib64/
cp /usr/lib/ssl/openssl.cnf $ROOT/usr/lib/ssl/
M=$ROOT/lib/modules/$KVER
mkdir -p $M/kernel
for d in crypto arch/x86/crypto lib/crypto net/tls; do mkdir -p $M/kernel/$d; cp -r "$MODS"/kernel/$d/. $M/kernel/$d/; done
cp "$MODS"/modules.* $M/ 2>/dev/null || true
# Some Debian releases ship modules xz-compressed: busybox insmod wants plain .ko.
find $M -name '*.ko.xz' -exec xz -d {} +

# Lab PKI made on the host (key generation under TCG is slow).
P=$ROOT/t/pki
openssl req -x509 -newkey rsa:2048 -nodes -keyout $WORK/ca.key -out $P/ca.pem -days 2 -subj '/CN=Sultry VM CA' \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout $P/leaf.key -out $WORK/leaf.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > $WORK/leaf.ext
openssl x509 -req -in $WORK/leaf.csr -CA $P/ca.pem -CAkey $WORK/ca.key -CAcreateserial -out $P/leaf.pem -days 2 -extfile $WORK/leaf.ext 2>/dev/null

# The CLI and the guest test as plain ESM bundles; the addon where native.ts looks for it (native.ts resolves ../../native from t/dist/ktls/).
ESB="$REPO/node_modules/.bin/esbuild --bundle --platform=node --format=esm --log-level=warning"
$ESB "$REPO/src/ktls/testkit/fetch-cli.ts" --outfile=$ROOT/t/dist/ktls/fetch-cli.mjs
$ESB "$REPO/src/ktls/vm/guest.ts" --outfile=$ROOT/t/dist/ktls/guest.mjs
cp "$REPO/native/build/Release/sultry_ktls.node" $ROOT/t/native/build/Release/
cp "$REPO/src/ktls/vm/init.sh" $ROOT/init && chmod +x $ROOT/init
(cd $ROOT && find . | cpio -o -H newc --quiet | gzip -1 > $WORK/initramfs.cpio.gz)

STEP=vm
[ "$(left)" -gt 0 ] || timed_out
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ACCEL=(-accel kvm -cpu host); MODE=KVM; else ACCEL=(-accel tcg,thread=multi -cpu max); MODE=TCG; fi
say "booting $KVER under QEMU ($MODE), initramfs $(du -h $WORK/initramfs.cpio.gz | cut -f1), $(left)s of the budget left"
rc=0
timeout "$(left)" qemu-system-x86_64 "${ACCEL[@]}" -m 2048 -smp 2 \
  -kernel "$VMLINUZ" -initrd $WORK/initramfs.cpio.gz \
  -append "console=ttyS0 panic=-1 quiet rdinit=/init sultry.bench_mib=$BENCH_MIB" -nographic -no-reboot -nic none \
  </dev/null > >(sed -u 's/\r$//' | tee $WORK/serial.log | grep --line-buffered -E '^(RESULT|KTLS-VM|BENCH|insmod)' | while IFS= read -r l; do say "$l"; done) || rc=$?
sleep 1 # let the log pipeline drain
[ $rc -eq 124 ] && { say "serial log: $WORK/serial.log"; timed_out; }
if grep -q '^KTLS-VM SUMMARY PASS' $WORK/serial.log && ! grep -q '^RESULT .* FAIL' $WORK/serial.log; then
  say "PASS (log: $WORK/serial.log)"
  exit 0
fi
if ! grep -q '^KTLS-VM SUMMARY' $WORK/serial.log; then
  say "the guest never finished (qemu exit $rc); last lines of the serial log:"
  tail -20 $WORK/serial.log | sed 's/^/  | /'
fi
say "FAIL (log: $WORK/serial.log)"
exit 1
