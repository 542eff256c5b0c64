#!/usr/bin/env bash
# `make test-ktls-vm`: boots Debian's kernel (CONFIG_TLS=m) under QEMU/TCG from an initramfs holding
# node, openssl, the addon, the bundled guest test and the tls module (notes §10), and passes only if
# every RESULT line in the serial log passed. Needs: linux-image-amd64 qemu-system-x86 busybox-static cpio.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
KVER=${KVER:-$(ls /lib/modules | grep -E 'amd64$' | sort -V | tail -1)}
VMLINUZ=/boot/vmlinuz-$KVER
for tool in qemu-system-x86_64 cpio busybox; do
  command -v $tool >/dev/null || { echo "test-ktls-vm: $tool missing (apt-get install qemu-system-x86 busybox-static cpio linux-image-amd64)"; exit 2; }
done
[ -f "$VMLINUZ" ] || { echo "test-ktls-vm: $VMLINUZ missing (apt-get install linux-image-amd64)"; exit 2; }
[ -f "$REPO/native/build/Release/sultry_ktls.node" ] || make -C "$REPO" native

WORK=$(mktemp -d /tmp/sultry-ktls-vm.XXXXXX)
ROOT=$WORK/root
mkdir -p $ROOT/{bin,sbin,proc,sys,dev,tmp,etc,usr/bin,usr/lib/ssl,lib/x86_64-linux-gnu,lib64,t/pki,t/native/build/Release}
cp "$(command -v busybox)" $ROOT/bin/busybox
for a in sh mount insmod modprobe ip cat echo grep ls sleep uname dmesg poweroff tr; do ln -s busybox $ROOT/bin/$a; done
ln -s ../bin/busybox $ROOT/sbin/poweroff
cp "$(command -v node)" "$(command -v openssl)" $ROOT/usr/bin/
for lib in $(ldd "$(command -v node)" "$(command -v openssl)" | awk '/=>/ {print $3}' | sort -u); do cp -L "$lib" $ROOT/lib/x86_64-linux-gnu/; done
cp -L /lib64/ld-linux-x86-64.so.2 $ROOT/lib64/
cp /usr/lib/ssl/openssl.cnf $ROOT/usr/lib/ssl/
M=/lib/modules/$KVER
mkdir -p $ROOT$M/kernel
for d in crypto arch/x86/crypto lib/crypto net/tls; do mkdir -p $ROOT$M/kernel/$d; cp -r $M/kernel/$d/. $ROOT$M/kernel/$d/; done
cp $M/modules.* $ROOT$M/ 2>/dev/null || true
# Debian ships modules xz-compressed on some releases: busybox insmod wants plain .ko.
find $ROOT$M -name '*.ko.xz' -exec xz -d {} +

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
echo "test-ktls-vm: booting $KVER under QEMU (TCG), image $(du -h $WORK/initramfs.cpio.gz | cut -f1)"
timeout ${VM_TIMEOUT:-600} qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 2048 -smp 2 \
  -kernel $VMLINUZ -initrd $WORK/initramfs.cpio.gz \
  -append "console=ttyS0 panic=-1 quiet rdinit=/init" -nographic -no-reboot -nic none \
  | tr -d '\r' | tee $WORK/serial.log | grep -E '^(RESULT|KTLS-VM|BENCH|insmod)' || true
grep -q '^KTLS-VM SUMMARY PASS' $WORK/serial.log && ! grep -q '^RESULT .* FAIL' $WORK/serial.log \
  && { echo "test-ktls-vm: PASS (log: $WORK/serial.log)"; exit 0; }
echo "test-ktls-vm: FAIL (log: $WORK/serial.log)"; exit 1
