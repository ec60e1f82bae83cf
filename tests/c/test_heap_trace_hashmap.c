// heapcaps-test: features=HEAP_TRACING_STANDALONE,HEAP_TRACE_HASH_MAP,HEAP_USE_HOOKS cflags=-DCONFIG_HEAP_TRACE_HASH_MAP=1,-DCONFIG_HEAP_USE_HOOKS
/* The heap trace tests again, against a library with the address hash map (and the record and
 * summary layouts that come with it). */
#include "test_heap_trace.c"
