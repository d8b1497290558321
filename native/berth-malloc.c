/*
 * berth-malloc: glibc's malloc_trim(0) for berthd (src/host/malloc-trim.ts), a Node-API addon built by
 * scripts/setup.sh. Node has no binding for it. glibc gives back only the top of each arena when memory is freed;
 * malloc_trim also returns the free pages inside the arenas, which is what V8's compiler zones, libuv's threads and
 * the start-up leave behind in an idle berthd (BENCHMARKS.md, "Memory").
 */
#include <malloc.h>
#include <node_api.h>

/* trim(): true if malloc gave memory back to the system. */
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (napi_get_boolean(env, malloc_trim(0) == 1, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
