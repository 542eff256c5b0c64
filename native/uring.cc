// Optional io_uring data path for the handed-over kTLS socket: IORING_OP_RECVMSG (with a control
// buffer, so the kernel's TLS_GET_RECORD_TYPE cmsg arrives as with recvmsg(2)) and IORING_OP_SENDMSG
// (with TLS_SET_RECORD_TYPE), through raw io_uring_setup/io_uring_enter/io_uring_register and mmap'd
// rings — no liburing. Completions reach libuv through an eventfd registered with the ring
// (IORING_REGISTER_EVENTFD) and watched by uv_poll. Built only where <linux/io_uring.h> exists;
// elsewhere uringOpen answers ENOSYS and callers keep the plain path.
//
// One recvmsg and one sendmsg at most in flight per ring: a TCP byte stream must be read in order.
// The buffers belong to the ring (not to JS), so a garbage collection can never free memory the
// kernel still writes into; received bytes are copied out once into a Buffer, as the plain path does.
//
// Exports: uringOpen(fd, cb(kind, res, recordType, data)) -> handle | { step, errno },
// uringRecv(handle) -> errno, uringSend(handle, bytes, type) -> bytes queued or -errno,
// uringClose(handle), uringStats(handle).

#include "napi-args.h"

#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__linux__) && __has_include(<linux/io_uring.h>) && !defined(SULTRY_NO_KTLS)
#define SULTRY_URING 1
#include <linux/io_uring.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif
#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#endif

namespace sultry {
namespace {

#ifdef SULTRY_URING

constexpr uint64_t kRecv = 1, kSend = 2, kCancel = 3;
constexpr size_t kRecvSize = 128 * 1024;
constexpr size_t kSendMax = 256 * 1024;
constexpr unsigned kEntries = 8;
// Completions handled per eventfd wakeup before yielding to the rest of the event loop.
constexpr int kMaxRounds = 64;

struct Ring {
  int ringFd = -1, eventFd = -1, sockFd = -1;
  void* sqPtr = MAP_FAILED;
  size_t sqSize = 0;
  void* cqPtr = MAP_FAILED;
  size_t cqSize = 0;
  io_uring_sqe* sqes = static_cast<io_uring_sqe*>(MAP_FAILED);
  size_t sqesSize = 0;
  unsigned *sqTail = nullptr, *sqMask = nullptr, *sqArray = nullptr;
  unsigned *cqHead = nullptr, *cqTail = nullptr, *cqMask = nullptr;
  io_uring_cqe* cqes = nullptr;

  uint8_t* recvBuf = nullptr;
  uint8_t* sendBuf = nullptr;
  msghdr recvMsg{};
  iovec recvIov{};
  alignas(cmsghdr) unsigned char recvCtl[CMSG_SPACE(sizeof(unsigned char))];
  msghdr sendMsg{};
  iovec sendIov{};
  alignas(cmsghdr) unsigned char sendCtl[CMSG_SPACE(sizeof(unsigned char))];
  bool recvBusy = false, sendBusy = false;

  uv_poll_t poll;
  bool polling = false;
  napi_env env = nullptr;
  napi_ref cb = nullptr;
  napi_async_context ctx = nullptr;
  bool dispatching = false, closeRequested = false, closed = false;
  // Kept when an operation could not be cancelled at close: the kernel may still write into them.
  bool leakBuffers = false;
  double enters = 0, wakeups = 0, completions = 0;
};

struct SetupError {
  const char* step;
  int err;
};

void Unmap(Ring* r) {
  if (r->sqes != MAP_FAILED) munmap(r->sqes, r->sqesSize);
  if (r->cqPtr != MAP_FAILED && r->cqPtr != r->sqPtr) munmap(r->cqPtr, r->cqSize);
  if (r->sqPtr != MAP_FAILED) munmap(r->sqPtr, r->sqSize);
  r->sqes = static_cast<io_uring_sqe*>(MAP_FAILED);
  r->cqPtr = r->sqPtr = MAP_FAILED;
  if (r->ringFd >= 0) close(r->ringFd);
  r->ringFd = -1;
}

SetupError Setup(Ring* r) {
  io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, kEntries, &p));
  if (fd < 0) return {"io_uring_setup", errno};
  r->ringFd = fd;
  r->sqSize = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cqSize = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  bool single = p.features & IORING_FEAT_SINGLE_MMAP;
  if (single) r->sqSize = r->cqSize = r->sqSize > r->cqSize ? r->sqSize : r->cqSize;
  r->sqPtr = mmap(nullptr, r->sqSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (r->sqPtr == MAP_FAILED) return {"mmap of the SQ ring", errno};
  r->cqPtr = single ? r->sqPtr : mmap(nullptr, r->cqSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  if (r->cqPtr == MAP_FAILED) return {"mmap of the CQ ring", errno};
  r->sqesSize = p.sq_entries * sizeof(io_uring_sqe);
  r->sqes = static_cast<io_uring_sqe*>(mmap(nullptr, r->sqesSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES));
  if (r->sqes == MAP_FAILED) return {"mmap of the SQEs", errno};
  auto* sq = static_cast<char*>(r->sqPtr);
  auto* cq = static_cast<char*>(r->cqPtr);
  r->sqTail = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  r->sqMask = reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  r->sqArray = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  r->cqHead = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
  r->cqTail = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
  r->cqMask = reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
  r->cqes = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
  r->eventFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->eventFd < 0) return {"eventfd", errno};
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_EVENTFD, &r->eventFd, 1) != 0) return {"IORING_REGISTER_EVENTFD", errno};
  // A blocking file: an operation that finds the socket not ready is parked on its internal poll,
  // but one retried after that poll fired and still not ready (a kTLS record only partly arrived:
  // the TCP data made the socket readable) goes to an io-wq worker, which honours O_NONBLOCK and
  // would hand EAGAIN back to us. Blocking, the worker waits for the whole record instead.
  int fl = fcntl(r->sockFd, F_GETFL);
  if (fl < 0 || fcntl(r->sockFd, F_SETFL, fl & ~O_NONBLOCK) != 0) return {"fcntl(F_SETFL) clearing O_NONBLOCK", errno};
  r->recvBuf = static_cast<uint8_t*>(malloc(kRecvSize));
  r->sendBuf = static_cast<uint8_t*>(malloc(kSendMax));
  if (!r->recvBuf || !r->sendBuf) return {"malloc", ENOMEM};
  return {nullptr, 0};
}

// Queues one SQE and submits it. We are the only producer, so the tail is ours to read plainly; the
// release store publishes the SQE before the kernel can see the new tail.
int Submit(Ring* r, uint8_t opcode, int fd, uint64_t addr, unsigned msgFlags, uint64_t userData) {
  unsigned tail = *r->sqTail;
  unsigned idx = tail & *r->sqMask;
  io_uring_sqe* e = &r->sqes[idx];
  memset(e, 0, sizeof *e);
  e->opcode = opcode;
  e->fd = fd;
  e->addr = addr;
  e->len = opcode == IORING_OP_ASYNC_CANCEL ? 0 : 1;
  e->msg_flags = msgFlags;
  e->user_data = userData;
  r->sqArray[idx] = idx;
  __atomic_store_n(r->sqTail, tail + 1, __ATOMIC_RELEASE);
  r->enters++;
  // A socket operation that cannot complete now is parked by the kernel on the socket's wait queue
  // (its internal poll); it completes later into the CQ and signals the eventfd.
  for (;;) {
    long n = syscall(__NR_io_uring_enter, r->ringFd, 1, 0, 0, nullptr, 0);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

bool Reap(Ring* r, io_uring_cqe* out) {
  unsigned head = *r->cqHead;
  if (head == __atomic_load_n(r->cqTail, __ATOMIC_ACQUIRE)) return false;
  *out = r->cqes[head & *r->cqMask];
  __atomic_store_n(r->cqHead, head + 1, __ATOMIC_RELEASE);
  return true;
}

void PollCb(uv_poll_t* h, int status, int events);

void Watch(Ring* r) {
  bool want = r->recvBusy || r->sendBusy;
  if (want && !r->polling) uv_poll_start(&r->poll, UV_READABLE, PollCb);
  if (!want && r->polling) uv_poll_stop(&r->poll);
  r->polling = want;
}

// The record type from the cmsg the kernel wrote into our control buffer (23 without one: plain TCP,
// or a data record). Read from the buffer itself rather than msg_controllen, which not every kernel
// writes back into the SQE's msghdr.
int RecordType(Ring* r) {
  cmsghdr c;
  memcpy(&c, r->recvCtl, sizeof c);
  if (c.cmsg_len >= CMSG_LEN(sizeof(unsigned char)) && c.cmsg_level == SOL_TLS && c.cmsg_type == TLS_GET_RECORD_TYPE) {
    return *CMSG_DATA(reinterpret_cast<cmsghdr*>(r->recvCtl));
  }
  return 23;
}

void Free(Ring* r) {
  if (r->cb) napi_delete_reference(r->env, r->cb);
  if (r->ctx) napi_async_destroy(r->env, r->ctx);
  r->cb = nullptr;
  r->ctx = nullptr;
  Unmap(r);
  if (!r->leakBuffers) {
    free(r->recvBuf);
    free(r->sendBuf);
  }
  r->recvBuf = r->sendBuf = nullptr;
}

// Cancels what is in flight and waits (bounded) for its completions, so the kernel is done with the
// buffers before they are freed; then the ring goes and the poll handle is closed.
void DoClose(Ring* r) {
  if (r->closed) return;
  r->closed = true;
  if (r->polling) uv_poll_stop(&r->poll);
  r->polling = false;
  if (r->recvBusy) Submit(r, IORING_OP_ASYNC_CANCEL, -1, kRecv, 0, kCancel);
  if (r->sendBusy) Submit(r, IORING_OP_ASYNC_CANCEL, -1, kSend, 0, kCancel);
  for (int i = 0; i < 40 && (r->recvBusy || r->sendBusy); i++) {
    io_uring_cqe c;
    while (Reap(r, &c)) {
      if (c.user_data == kRecv) r->recvBusy = false;
      if (c.user_data == kSend) r->sendBusy = false;
    }
    if (!r->recvBusy && !r->sendBusy) break;
    pollfd pfd{r->eventFd, POLLIN, 0};
    ::poll(&pfd, 1, 50);
    uint64_t v;
    if (read(r->eventFd, &v, sizeof v) < 0) {}
  }
  r->leakBuffers = r->recvBusy || r->sendBusy;
  Free(r);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->poll), [](uv_handle_t* h) {
    Ring* ring = static_cast<Ring*>(h->data);
    if (ring->eventFd >= 0) close(ring->eventFd);
    delete ring;
  });
}

void PollCb(uv_poll_t* h, int status, int) {
  Ring* r = static_cast<Ring*>(h->data);
  if (r->closed) return;
  r->wakeups++;
  uint64_t v;
  // Reset the eventfd before reaping: a completion posted after this read signals it again.
  if (read(r->eventFd, &v, sizeof v) < 0) {}
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  r->dispatching = true;
  int rounds = 0;
  io_uring_cqe c;
  while (!r->closeRequested && status == 0) {
    if (rounds == kMaxRounds) {
      // Completions left in the CQ: wake ourselves again after the rest of the loop has run.
      uint64_t one = 1;
      if (write(r->eventFd, &one, sizeof one) < 0) {}
      break;
    }
    if (!Reap(r, &c)) break;
    rounds++;
    if (c.user_data != kRecv && c.user_data != kSend) continue;  // cancellations
    r->completions++;
    napi_value argv[4], cb, recv, result;
    argv[0] = Int(env, static_cast<int64_t>(c.user_data));
    argv[1] = Int(env, c.res);
    napi_get_undefined(env, &argv[3]);
    if (c.user_data == kRecv) {
      r->recvBusy = false;
      argv[2] = Int(env, c.res > 0 ? RecordType(r) : 23);
      if (c.res > 0) napi_create_buffer_copy(env, static_cast<size_t>(c.res), r->recvBuf, nullptr, &argv[3]);
    } else {
      r->sendBusy = false;
      argv[2] = Int(env, 0);
    }
    napi_get_reference_value(env, r->cb, &cb);
    napi_get_global(env, &recv);
    napi_status st = napi_make_callback(env, r->ctx, recv, cb, 4, argv, &result);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    } else if (st != napi_ok) {
      napi_fatal_error("sultry_ktls uring", NAPI_AUTO_LENGTH, "napi_make_callback failed", NAPI_AUTO_LENGTH);
    }
  }
  if (status != 0 && !r->closeRequested) {
    // The eventfd poll itself failed: report it as a failed receive so the stream errors out.
    napi_value argv[4], cb, recv, result;
    argv[0] = Int(env, static_cast<int64_t>(kRecv));
    argv[1] = Int(env, -EIO);
    argv[2] = Int(env, 23);
    napi_get_undefined(env, &argv[3]);
    napi_get_reference_value(env, r->cb, &cb);
    napi_get_global(env, &recv);
    napi_make_callback(env, r->ctx, recv, cb, 4, argv, &result);
  }
  r->dispatching = false;
  napi_close_handle_scope(env, scope);
  if (r->closeRequested) DoClose(r);
  else Watch(r);
}

bool RingArg(napi_env env, napi_value v, Ring** out) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) return Throw(env, "expected an io_uring handle");
  *out = static_cast<Ring*>(p);
  if ((*out)->closed || (*out)->closeRequested) return Throw(env, "the io_uring handle is closed");
  return true;
}

#endif  // SULTRY_URING

napi_value UringOpenFn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t fd;
  if (argc < 2 || !ArgInt(env, argv[0], &fd)) return nullptr;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) {
    Throw(env, "expected a callback");
    return nullptr;
  }
  const char* step = "build (no <linux/io_uring.h>)";
  int err = ENOSYS;
#ifdef SULTRY_URING
  Ring* r = new Ring();
  r->sockFd = fd;
  SetupError e = Setup(r);
  if (!e.step) {
    uv_loop_t* loop;
    napi_get_uv_event_loop(env, &loop);
    int rc = uv_poll_init(loop, &r->poll, r->eventFd);
    if (rc != 0) e = {"uv_poll_init", -rc};
  }
  if (!e.step) {
    r->poll.data = r;
    r->env = env;
    napi_create_reference(env, argv[1], 1, &r->cb);
    napi_value name;
    napi_create_string_utf8(env, "SultryKtlsUring", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, nullptr, name, &r->ctx);
    r->recvIov = {r->recvBuf, kRecvSize};
    r->recvMsg.msg_iov = &r->recvIov;
    r->recvMsg.msg_iovlen = 1;
    r->sendMsg.msg_iov = &r->sendIov;
    r->sendMsg.msg_iovlen = 1;
    napi_value out;
    napi_create_external(env, r, nullptr, nullptr, &out);
    return out;
  }
  Unmap(r);
  if (r->eventFd >= 0) close(r->eventFd);
  free(r->recvBuf);
  free(r->sendBuf);
  delete r;
  step = e.step;
  err = e.err;
#else
  (void)fd;
#endif
  napi_value out, s;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, step, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, out, "step", s);
  napi_set_named_property(env, out, "errno", Int(env, err));
  return out;
}

// uringRecv(handle) -> 0 or errno (EBUSY: one is already in flight). The completion brings the bytes.
napi_value UringRecvFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
#ifdef SULTRY_URING
  Ring* r;
  if (argc < 1 || !RingArg(env, argv[0], &r)) return nullptr;
  if (r->recvBusy) return Int(env, EBUSY);
  memset(r->recvCtl, 0, sizeof r->recvCtl);
  r->recvMsg.msg_control = r->recvCtl;
  r->recvMsg.msg_controllen = sizeof r->recvCtl;
  r->recvMsg.msg_flags = 0;
  r->recvBusy = true;
  int e = Submit(r, IORING_OP_RECVMSG, r->sockFd, reinterpret_cast<uintptr_t>(&r->recvMsg), 0, kRecv);
  if (e) r->recvBusy = false;
  Watch(r);
  return Int(env, e);
#else
  return Int(env, ENOSYS);
#endif
}

// uringSend(handle, bytes, recordType) -> bytes queued (the start of `bytes`, at most 256 KiB; the
// completion says how many were sent) or -errno.
napi_value UringSendFn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
#ifdef SULTRY_URING
  Ring* r;
  uint8_t* data;
  size_t len;
  int32_t type;
  if (argc < 3 || !RingArg(env, argv[0], &r) || !ArgBytes(env, argv[1], &data, &len) || !ArgInt(env, argv[2], &type)) return nullptr;
  if (r->sendBusy) return Int(env, -EBUSY);
  size_t n = len < kSendMax ? len : kSendMax;
  memcpy(r->sendBuf, data, n);
  r->sendIov = {r->sendBuf, n};
  memset(r->sendCtl, 0, sizeof r->sendCtl);
  r->sendMsg.msg_control = r->sendCtl;
  r->sendMsg.msg_controllen = sizeof r->sendCtl;
  cmsghdr* c = CMSG_FIRSTHDR(&r->sendMsg);
  c->cmsg_level = SOL_TLS;
  c->cmsg_type = TLS_SET_RECORD_TYPE;
  c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
  *CMSG_DATA(c) = static_cast<unsigned char>(type);
  r->sendBusy = true;
  int e = Submit(r, IORING_OP_SENDMSG, r->sockFd, reinterpret_cast<uintptr_t>(&r->sendMsg), MSG_NOSIGNAL, kSend);
  if (e) r->sendBusy = false;
  Watch(r);
  return Int(env, e ? -e : static_cast<int64_t>(n));
#else
  return Int(env, -ENOSYS);
#endif
}

// uringClose(handle): cancels what is in flight, frees the ring (inside a completion callback: right after it).
napi_value UringCloseFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
#ifdef SULTRY_URING
  void* p = nullptr;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
    Throw(env, "expected an io_uring handle");
    return nullptr;
  }
  Ring* r = static_cast<Ring*>(p);
  if (r->closed || r->closeRequested) return nullptr;
  if (r->dispatching) r->closeRequested = true;
  else DoClose(r);
#endif
  return nullptr;
}

// uringStats(handle) -> { enters, wakeups, completions }: syscalls and event-loop wakeups, for the bench.
napi_value UringStatsFn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_value out;
  napi_create_object(env, &out);
#ifdef SULTRY_URING
  void* p = nullptr;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
    Throw(env, "expected an io_uring handle");
    return nullptr;
  }
  Ring* r = static_cast<Ring*>(p);
  if (r->closed) return out;
  napi_value v;
  napi_create_double(env, r->enters, &v);
  napi_set_named_property(env, out, "enters", v);
  napi_create_double(env, r->wakeups, &v);
  napi_set_named_property(env, out, "wakeups", v);
  napi_create_double(env, r->completions, &v);
  napi_set_named_property(env, out, "completions", v);
#endif
  return out;
}

}  // namespace

void InitUring(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"uringOpen", nullptr, UringOpenFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"uringRecv", nullptr, UringRecvFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"uringSend", nullptr, UringSendFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"uringClose", nullptr, UringCloseFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"uringStats", nullptr, UringStatsFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace sultry
