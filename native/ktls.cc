// Sultry kTLS addon: the few syscalls Node has no API for. Plain N-API (node_api.h), no other
// dependency. Every call returns errno values instead of throwing, so the TypeScript side can report
// exactly what the kernel said; only argument misuse throws.
//
// Exports: probe(), setUlp(fd), getUlp(fd), setCryptoInfo(fd, dir, bytes), sendmsg(fd, bytes, type),
// recvmsg(fd, buf), layout() (sizeof/offsetof test hook), pollStart/pollUpdate/pollClose (libuv
// readiness on the fd), dup(fd), close(fd); and the optional io_uring data path (uring.cc).

#include "napi-args.h"

#include <node_api.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#ifndef SULTRY_NO_KTLS
#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

// The layout the TypeScript encoder (src/ktls/crypto-info.ts) writes; checked here against the header.
static_assert(sizeof(struct tls12_crypto_info_aes_gcm_128) == 40, "aes_gcm_128 size");
static_assert(sizeof(struct tls12_crypto_info_aes_gcm_256) == 56, "aes_gcm_256 size");
static_assert(sizeof(struct tls12_crypto_info_chacha20_poly1305) == 56, "chacha20_poly1305 size");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_128, iv) == 4, "aes128 iv");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_128, key) == 12, "aes128 key");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_128, salt) == 28, "aes128 salt");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_128, rec_seq) == 32, "aes128 rec_seq");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_256, key) == 12, "aes256 key");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_256, salt) == 44, "aes256 salt");
static_assert(offsetof(struct tls12_crypto_info_aes_gcm_256, rec_seq) == 48, "aes256 rec_seq");
static_assert(offsetof(struct tls12_crypto_info_chacha20_poly1305, iv) == 4, "chacha iv");
static_assert(offsetof(struct tls12_crypto_info_chacha20_poly1305, key) == 16, "chacha key");
static_assert(offsetof(struct tls12_crypto_info_chacha20_poly1305, rec_seq) == 48, "chacha rec_seq");
static_assert(SOL_TLS == 282 && TLS_TX == 1 && TLS_RX == 2 && TCP_ULP == 31, "constants");
static_assert(TLS_CIPHER_AES_GCM_128 == 51 && TLS_CIPHER_AES_GCM_256 == 52 && TLS_CIPHER_CHACHA20_POLY1305 == 54, "cipher ids");
#endif

namespace {

using sultry::ArgBytes;
using sultry::ArgInt;
using sultry::Int;
using sultry::Throw;

// Zeroing that the compiler may not drop (explicit_bzero semantics).
void Wipe(void* p, size_t n) {
  volatile uint8_t* b = static_cast<volatile uint8_t*>(p);
  while (n--) *b++ = 0;
}

#ifndef SULTRY_NO_KTLS

int SetUlp(int fd) {
  return setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) == 0 ? 0 : errno;
}

// Copies the caller's bytes into the real struct for their cipher, sets it, wipes it. Bytes that
// match no struct we know (wrong size, unknown cipher) still go to the kernel as they are, so the
// errno we report is always the kernel's own answer.
int SetCryptoInfo(int fd, int dir, const uint8_t* bytes, size_t len) {
  union {
    struct tls12_crypto_info_aes_gcm_128 aes128;
    struct tls12_crypto_info_aes_gcm_256 aes256;
    struct tls12_crypto_info_chacha20_poly1305 chacha;
    uint8_t raw[64];
  } u;
  memset(&u, 0, sizeof u);
  size_t size = len;
  if (len >= sizeof(struct tls_crypto_info)) {
    struct tls_crypto_info hdr;
    memcpy(&hdr, bytes, sizeof hdr);
    switch (hdr.cipher_type) {
      case TLS_CIPHER_AES_GCM_128: if (len == sizeof u.aes128) size = sizeof u.aes128; break;
      case TLS_CIPHER_AES_GCM_256: if (len == sizeof u.aes256) size = sizeof u.aes256; break;
      case TLS_CIPHER_CHACHA20_POLY1305: if (len == sizeof u.chacha) size = sizeof u.chacha; break;
      default: break;
    }
  }
  memcpy(&u, bytes, size);
  int rc = setsockopt(fd, SOL_TLS, dir, &u, static_cast<socklen_t>(size)) == 0 ? 0 : errno;
  Wipe(&u, sizeof u);
  return rc;
}

// A connected loopback TCP pair (client fd, server fd) for probing; returns errno on failure.
int LoopbackPair(int* c, int* s) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) return errno;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  int rc = 0;
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(l, 1) || getsockname(l, reinterpret_cast<sockaddr*>(&a), &al)) rc = errno;
  *c = rc ? -1 : socket(AF_INET, SOCK_STREAM, 0);
  if (!rc && *c < 0) rc = errno;
  if (!rc && connect(*c, reinterpret_cast<sockaddr*>(&a), sizeof a)) rc = errno;
  *s = rc ? -1 : accept(l, nullptr, nullptr);
  if (!rc && *s < 0) rc = errno;
  close(l);
  if (rc) {
    if (*c >= 0) close(*c);
    *c = *s = -1;
  }
  return rc;
}

#endif

napi_value SetUlpFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  if (argc < 1 || !ArgInt(env, argv[0], &fd)) return nullptr;
#ifdef SULTRY_NO_KTLS
  return Int(env, ENOSYS);
#else
  return Int(env, SetUlp(fd));
#endif
}

napi_value GetUlpFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  if (argc < 1 || !ArgInt(env, argv[0], &fd)) return nullptr;
  char name[16] = {0};
#ifndef SULTRY_NO_KTLS
  socklen_t n = sizeof name - 1;
  if (getsockopt(fd, SOL_TCP, TCP_ULP, name, &n) != 0) name[0] = 0;
#endif
  napi_value out;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
  return out;
}

// setCryptoInfo(fd, dir, bytes) -> errno. The bytes are wiped afterwards: they hold a traffic key.
napi_value SetCryptoInfoFn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd, dir;
  uint8_t* data;
  size_t len;
  if (argc < 3 || !ArgInt(env, argv[0], &fd) || !ArgInt(env, argv[1], &dir) || !ArgBytes(env, argv[2], &data, &len)) return nullptr;
#ifdef SULTRY_NO_KTLS
  Wipe(data, len);
  return Int(env, ENOSYS);
#else
  if ((dir != TLS_TX && dir != TLS_RX) || len > 64) {
    Wipe(data, len);
    Throw(env, "dir must be TLS_TX (1) or TLS_RX (2), bytes at most 64");
    return nullptr;
  }
  int rc = SetCryptoInfo(fd, dir, data, len);
  Wipe(data, len);
  return Int(env, rc);
#endif
}

// sendmsg(fd, bytes, recordType) -> bytes sent (>= 0) or -errno. Non-blocking.
napi_value SendmsgFn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd, type;
  uint8_t* data;
  size_t len;
  if (argc < 3 || !ArgInt(env, argv[0], &fd) || !ArgBytes(env, argv[1], &data, &len) || !ArgInt(env, argv[2], &type)) return nullptr;
#ifdef SULTRY_NO_KTLS
  return Int(env, -ENOSYS);
#else
  iovec iov{data, len};
  char cbuf[CMSG_SPACE(sizeof(unsigned char))] = {0};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_TLS;
  c->cmsg_type = TLS_SET_RECORD_TYPE;
  c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
  *CMSG_DATA(c) = static_cast<unsigned char>(type);
  ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  return Int(env, n < 0 ? -errno : n);
#endif
}

// recvmsg(fd, buf) -> { n, recordType, errno }: n bytes of one record's plaintext; recordType from
// the TLS_GET_RECORD_TYPE cmsg (23 when absent); errno 0 or e.g. EAGAIN, EBADMSG, EIO. Non-blocking.
napi_value RecvmsgFn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  uint8_t* data;
  size_t len;
  if (argc < 2 || !ArgInt(env, argv[0], &fd) || !ArgBytes(env, argv[1], &data, &len)) return nullptr;
  int64_t n = -1, type = 23, err = ENOSYS;
#ifndef SULTRY_NO_KTLS
  iovec iov{data, len};
  char cbuf[CMSG_SPACE(sizeof(unsigned char))] = {0};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t r = recvmsg(fd, &msg, MSG_DONTWAIT);
  err = r < 0 ? errno : 0;
  n = r;
  for (cmsghdr* c = r >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE) type = *CMSG_DATA(c);
  }
#endif
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "n", Int(env, n));
  napi_set_named_property(env, out, "recordType", Int(env, type));
  napi_set_named_property(env, out, "errno", Int(env, err));
  return out;
}

// probe() -> { ulp: errno, suites: { "tls13-51": errno, ... } } on fresh loopback pairs with zero keys.
napi_value ProbeFn(napi_env env, napi_callback_info) {
  napi_value out, suites;
  napi_create_object(env, &out);
  napi_create_object(env, &suites);
#ifdef SULTRY_NO_KTLS
  napi_set_named_property(env, out, "ulp", Int(env, ENOSYS));
#else
  int c, s;
  int rc = LoopbackPair(&c, &s);
  if (rc == 0) {
    rc = SetUlp(c);
    close(c);
    close(s);
  }
  napi_set_named_property(env, out, "ulp", Int(env, rc));
  if (rc == 0) {
    const int versions[] = {TLS_1_2_VERSION, TLS_1_3_VERSION};
    const int ciphers[] = {TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256, TLS_CIPHER_CHACHA20_POLY1305};
    for (int v : versions) {
      for (int ci : ciphers) {
        uint8_t buf[56] = {0};
        size_t size = ci == TLS_CIPHER_AES_GCM_128 ? 40 : 56;
        struct tls_crypto_info hdr{static_cast<__u16>(v), static_cast<__u16>(ci)};
        memcpy(buf, &hdr, sizeof hdr);
        int e = LoopbackPair(&c, &s);
        if (e == 0) {
          e = SetUlp(c);
          if (e == 0) e = SetCryptoInfo(c, TLS_TX, buf, size);
          close(c);
          close(s);
        }
        char key[16];
        snprintf(key, sizeof key, "%s-%d", v == TLS_1_3_VERSION ? "tls13" : "tls12", ci);
        napi_set_named_property(env, suites, key, Int(env, e));
      }
    }
  }
#endif
  napi_set_named_property(env, out, "suites", suites);
  return out;
}

// layout() -> sizes and offsets as compiled, for tests that compare with the TypeScript encoder.
napi_value LayoutFn(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_object(env, &out);
#ifndef SULTRY_NO_KTLS
  napi_set_named_property(env, out, "aes128", Int(env, sizeof(struct tls12_crypto_info_aes_gcm_128)));
  napi_set_named_property(env, out, "aes256", Int(env, sizeof(struct tls12_crypto_info_aes_gcm_256)));
  napi_set_named_property(env, out, "chacha", Int(env, sizeof(struct tls12_crypto_info_chacha20_poly1305)));
  napi_set_named_property(env, out, "aes128SaltOffset", Int(env, offsetof(struct tls12_crypto_info_aes_gcm_128, salt)));
  napi_set_named_property(env, out, "aes256SaltOffset", Int(env, offsetof(struct tls12_crypto_info_aes_gcm_256, salt)));
  napi_set_named_property(env, out, "chachaKeyOffset", Int(env, offsetof(struct tls12_crypto_info_chacha20_poly1305, key)));
#endif
  return out;
}

// ---- readiness: a libuv poll handle on the (dup'ed) kernel-TLS fd, calling back on the JS thread.

struct Watch {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
};

void OnPoll(uv_poll_t* h, int status, int events) {
  Watch* w = static_cast<Watch*>(h->data);
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value cb, recv, argv[2] = {Int(w->env, status), Int(w->env, events)}, result;
  napi_get_reference_value(w->env, w->cb, &cb);
  // The receiver must be an object: napi_make_callback converts it with ToObject, and `undefined`
  // makes it fail before the callback runs, leaving a TypeError pending that Node-API then throws
  // out of whatever addon function JS calls next. That was the "missed readiness" seen in QEMU:
  // every poll event was dropped, and the next recvmsg/pollUpdate threw.
  napi_get_global(w->env, &recv);
  // make_callback (not call_function) so promise jobs and nextTicks run afterwards.
  napi_status st = napi_make_callback(w->env, w->ctx, recv, cb, 2, argv, &result);
  bool pending = false;
  napi_is_exception_pending(w->env, &pending);
  if (pending) {
    // The JS callback threw: report it as an uncaught exception now (as any libuv-driven callback
    // would), instead of leaving it for the next unrelated addon call to throw.
    napi_value err;
    napi_get_and_clear_last_exception(w->env, &err);
    napi_fatal_exception(w->env, err);
  } else if (st != napi_ok) {
    napi_fatal_error("sultry_ktls OnPoll", NAPI_AUTO_LENGTH, "napi_make_callback failed", NAPI_AUTO_LENGTH);
  }
  napi_close_handle_scope(w->env, scope);
}

napi_value WatchFromArg(napi_env env, napi_value v, Watch** out) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    Throw(env, "expected a poll handle");
    return nullptr;
  }
  *out = static_cast<Watch*>(p);
  return v;
}

// pollStart(fd, events, cb(status, events)) -> handle. events: 1 readable, 2 writable (UV_READABLE/UV_WRITABLE).
napi_value PollStartFn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd, events;
  if (argc < 3 || !ArgInt(env, argv[0], &fd) || !ArgInt(env, argv[1], &events)) return nullptr;
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  Watch* w = new Watch();
  w->env = env;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    delete w;
    napi_throw_error(env, nullptr, uv_strerror(rc));
    return nullptr;
  }
  w->poll.data = w;
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_value name;
  napi_create_string_utf8(env, "SultryKtlsPoll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &w->ctx);
  uv_poll_start(&w->poll, events, OnPoll);
  napi_value out;
  napi_create_external(env, w, nullptr, nullptr, &out);
  return out;
}

// pollUpdate(handle, events) -> libuv status (0 or a negative UV_E*): change what we wait for (0 = nothing).
napi_value PollUpdateFn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Watch* w;
  int32_t events;
  if (argc < 2 || !WatchFromArg(env, argv[0], &w) || !ArgInt(env, argv[1], &events)) return nullptr;
  int rc = events == 0 ? uv_poll_stop(&w->poll) : uv_poll_start(&w->poll, events, OnPoll);
  return Int(env, rc);
}

// pollClose(handle): stops and frees the handle (the fd itself is closed with close()).
napi_value PollCloseFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Watch* w;
  if (argc < 1 || !WatchFromArg(env, argv[0], &w)) return nullptr;
  if (w->poll.data == nullptr) return nullptr;  // already closed
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  w->poll.data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) { delete reinterpret_cast<Watch*>(h); });
  return nullptr;
}

// dup(fd) -> new fd or -errno: the kernel-TLS stream gets its own fd so Node's handle can be closed.
napi_value DupFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  if (argc < 1 || !ArgInt(env, argv[0], &fd)) return nullptr;
#ifdef SULTRY_NO_KTLS
  return Int(env, -ENOSYS);
#else
  int r = dup(fd);
  return Int(env, r < 0 ? -errno : r);
#endif
}

napi_value CloseFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  if (argc < 1 || !ArgInt(env, argv[0], &fd)) return nullptr;
#ifdef SULTRY_NO_KTLS
  return Int(env, ENOSYS);
#else
  return Int(env, close(fd) == 0 ? 0 : errno);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"probe", nullptr, ProbeFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setUlp", nullptr, SetUlpFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getUlp", nullptr, GetUlpFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setCryptoInfo", nullptr, SetCryptoInfoFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sendmsg", nullptr, SendmsgFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"recvmsg", nullptr, RecvmsgFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layout", nullptr, LayoutFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pollStart", nullptr, PollStartFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pollUpdate", nullptr, PollUpdateFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pollClose", nullptr, PollCloseFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dup", nullptr, DupFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"close", nullptr, CloseFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  sultry::InitUring(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
