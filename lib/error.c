/* error.c - status strings and the per-thread detail of the last error. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

/* Static TLS (no destructor, nothing allocated): dlclose leaves nothing behind. */
static _Thread_local char g_last_error[256];

const char *mnet_status_string(mnet_status status)
{
    switch (status) {
    case MNET_OK: return "MNET_OK: success";
    case MNET_ERR_ARG: return "MNET_ERR_ARG: invalid argument";
    case MNET_ERR_NOMEM: return "MNET_ERR_NOMEM: out of memory";
    case MNET_ERR_IO: return "MNET_ERR_IO: input/output error";
    case MNET_ERR_FORMAT: return "MNET_ERR_FORMAT: malformed model data";
    case MNET_ERR_UNSUPPORTED: return "MNET_ERR_UNSUPPORTED: not supported";
    }
    return "unknown mnet_status";
}

const char *mnet_last_error(void)
{
    return g_last_error;
}

void mnet_clear_error(void)
{
    g_last_error[0] = '\0';
}

mnet_status mnet_error(mnet_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last_error, sizeof g_last_error, fmt, ap);
    va_end(ap);
    return status;
}

int mnet_mul_size(size_t *out, size_t a, size_t b)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r) || r > (size_t)PTRDIFF_MAX)
        return 0;
    *out = r;
    return 1;
}
