// Small Node-API helpers shared by the addon's files: numbers out, argument checks that throw a
// TypeError (argument misuse is the only thing the addon throws for).
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace sultry {

inline napi_value Int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

inline bool Throw(napi_env env, const char* msg) {
  napi_throw_type_error(env, nullptr, msg);
  return false;
}

inline bool ArgInt(napi_env env, napi_value v, int32_t* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return Throw(env, "expected a number");
  napi_get_value_int32(env, v, out);
  return true;
}

inline bool ArgBytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is;
  napi_is_typedarray(env, v, &is);
  if (!is) return Throw(env, "expected a Uint8Array");
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off);
  if (type != napi_uint8_array) return Throw(env, "expected a Uint8Array");
  *data = static_cast<uint8_t*>(ptr);
  return true;
}

// Registers the io_uring exports (uring.cc).
void InitUring(napi_env env, napi_value exports);

}  // namespace sultry
