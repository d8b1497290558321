/*
 * berth-malloc: glibc's malloc_trim(0) and mallopt(M_ARENA_MAX) for berthd (src/host/malloc-trim.ts,
 * bin/berthd.js), a Node-API addon built by scripts/setup.sh. Node has no binding for either. glibc gives back only
 * the top of each arena when memory is freed; malloc_trim also returns the free pages inside the arenas, which is
 * what V8's compiler zones, libuv's threads and the start-up leave behind in an idle berthd. And each thread that
 * mallocs gets an arena of its own (up to 8 per core), each keeping its own partly used pages (BENCHMARKS.md,
 * "Memory").
 */
#include <malloc.h>
#include <node_api.h>

/* trim(): true if malloc gave memory back (glibc answers true for almost any call in a process this busy). */
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (napi_get_boolean(env, malloc_trim(0) == 1, &result) != napi_ok) return NULL;
  return result;
}

/*
 * setArenaMax(n): at most n arenas for the threads that have none yet; true if malloc accepted the setting (it
 * cannot take back arenas made before, and stops honouring a new limit once more than 8 arenas exist).
 */
static napi_value SetArenaMax(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double max = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_double(env, argv[0], &max) != napi_ok) {
    napi_throw_type_error(env, NULL, "setArenaMax: n must be a number");
    return NULL;
  }
  if (!(max >= 1 && max <= 1024) || max != (double)(int)max) { /* NaN fails the first test */
    napi_throw_range_error(env, NULL, "setArenaMax: n must be an integer from 1 to 1024");
    return NULL;
  }
  if (napi_get_boolean(env, mallopt(M_ARENA_MAX, (int)max) == 1, &result) != napi_ok) return NULL;
  return result;
}

static int export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "trim", Trim) || !export_function(env, exports, "setArenaMax", SetArenaMax)) {
    napi_throw_error(env, NULL, "berth-malloc: could not export its functions");
    return NULL;
  }
  return exports;
}
