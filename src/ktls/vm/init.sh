#!/bin/sh
# /init of the kTLS test VM (notes §10.3): mounts, loopback, the tls module and its crypto, then the guest test.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up
K=/lib/modules/$(uname -r)/kernel
for m in crypto/gf128mul crypto/ghash-generic crypto/cryptd crypto/crypto_simd crypto/ctr crypto/gcm \
         arch/x86/crypto/aesni-intel arch/x86/crypto/ghash-clmulni-intel lib/crypto/libchacha \
         arch/x86/crypto/chacha-x86_64 arch/x86/crypto/poly1305-x86_64 crypto/chacha20poly1305 net/tls/tls; do
  insmod $K/$m.ko 2>/dev/null || echo "insmod $m failed"
done
echo "KTLS-VM kernel $(uname -r) ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
export PATH=/usr/bin:/bin HOME=/tmp
cd /t && node /t/dist/ktls/guest.mjs /t
echo "KTLS-VM tls_stat: $(tr -s ' \n' ' ' < /proc/net/tls_stat)"
poweroff -f
