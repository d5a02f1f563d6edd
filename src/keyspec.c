/* Reading and writing a key's value where its spec says it is stored. */
#include <math.h>
#include <string.h>

#include "dfsae.h"
#include "keyspec.h"

int dfsae__key_valid(const dfsae__key_spec *s, double value)
{
    return value >= s->lo && value <= s->hi &&
           (s->kind == DFSAE__KIND_REAL || value == floor(value));
}

double dfsae__key_load(const dfsae__key_spec *s, const void *base)
{
    const char *p = (const char *)base + s->offset;
    if (s->field == DFSAE__FIELD_DOUBLE) {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int v;
    memcpy(&v, p, sizeof v);
    return v;
}

void dfsae__key_store(const dfsae__key_spec *s, void *base, double value)
{
    char *p = (char *)base + s->offset;
    if (s->field == DFSAE__FIELD_DOUBLE) {
        memcpy(p, &value, sizeof value);
    } else {
        int v = (int)value;
        memcpy(p, &v, sizeof v);
    }
}

int dfsae__key_bounds(const dfsae__key_spec *s, double *lo, double *hi)
{
    if (s == NULL)
        return DFSAE_ERR_UNKNOWN_PARAM;
    if (lo != NULL)
        *lo = s->lo;
    if (hi != NULL)
        *hi = s->hi;
    return DFSAE_OK;
}
