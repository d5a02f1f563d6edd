/* Data sources: constructors, row gathering and conversion (source.h). */
#include <string.h>

#include "data/source.h"

static size_t element_size(int element)
{
    return element == DFSAE_ELEM_F32 ? sizeof(float) : sizeof(uint16_t);
}

/* n elements of the source's type at src into float32. Half values: the
 * index of the first Inf or NaN, or n; float32 values are not looked at
 * (n). */
static size_t widen(const dfsae_source *s, const void *src, float *dst,
                    size_t n)
{
    if (s->element == DFSAE_ELEM_F32) {
        memcpy(dst, src, n * sizeof(float));
        return n;
    }
    if (s->element == DFSAE_ELEM_F16)
        return s->f16(src, dst, n);
    return dfsae__bf16_to_f32(src, dst, n);
}

static int check_shape(int element, size_t n, size_t d)
{
    if (element < 0 || element >= DFSAE_ELEM_COUNT || n == 0 || d == 0)
        return DFSAE_ERR_INVALID_ARG;
    size_t bytes;
    if (!dfsae__mul_size(n, d, &bytes) ||
        !dfsae__mul_size(bytes, sizeof(float), &bytes))
        return DFSAE_ERR_SIZE_OVERFLOW;
    return DFSAE_OK;
}

static int create(const dfsae_allocator *allocator, dfsae_source **out,
                  dfsae_source *proto)
{
    dfsae_allocator a;
    if (dfsae__allocator_init(&a, allocator) != DFSAE_OK)
        return DFSAE_ERR_INVALID_ARG;
    dfsae_source *s = dfsae__alloc(&a, sizeof *s);
    if (s == NULL)
        return DFSAE_ERR_NO_MEMORY;
    *s = *proto;
    s->alloc = a;
    s->owned = 1;
    s->f16 = dfsae__f16_converter();
    if (!dfsae__source_is_array(s) && s->element != DFSAE_ELEM_F32) {
        s->staging = dfsae__alloc_array(&a, (size_t)DFSAE__SOURCE_PIECE * s->d,
                                        element_size(s->element));
        if (s->staging == NULL) {
            dfsae__free(&a, s);
            return DFSAE_ERR_NO_MEMORY;
        }
    }
    *out = s;
    return DFSAE_OK;
}

int dfsae_source_from_array(const void *X, int element, size_t n, size_t d,
                            const dfsae_allocator *allocator,
                            dfsae_source **out)
{
    if (out == NULL)
        return DFSAE_ERR_NULL_ARG;
    *out = NULL;
    if (X == NULL)
        return DFSAE_ERR_NULL_ARG;
    int st = check_shape(element, n, d);
    if (st != DFSAE_OK)
        return st;
    dfsae_source proto;
    memset(&proto, 0, sizeof proto);
    proto.element = element;
    proto.n = n;
    proto.d = d;
    proto.array = X;
    return create(allocator, out, &proto);
}

int dfsae_source_from_callback(dfsae_read_fn read, void *user, int element,
                               size_t n, size_t d, int sequential,
                               const dfsae_allocator *allocator,
                               dfsae_source **out)
{
    if (out == NULL)
        return DFSAE_ERR_NULL_ARG;
    *out = NULL;
    if (read == NULL)
        return DFSAE_ERR_NULL_ARG;
    int st = check_shape(element, n, d);
    if (st != DFSAE_OK)
        return st;
    if (sequential != 0 && sequential != 1)
        return DFSAE_ERR_INVALID_ARG;
    dfsae_source proto;
    memset(&proto, 0, sizeof proto);
    proto.element = element;
    proto.n = n;
    proto.d = d;
    proto.read = read;
    proto.user = user;
    proto.sequential = sequential;
    return create(allocator, out, &proto);
}

int dfsae_source_set_parallel_reads(dfsae_source *source, int on)
{
    if (source == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (on != 0 && on != 1)
        return DFSAE_ERR_INVALID_ARG;
    source->parallel = on;
    return DFSAE_OK;
}

void dfsae_source_free(dfsae_source *source)
{
    if (source == NULL || !source->owned)
        return;
    dfsae_allocator a = source->alloc;
    dfsae__free(&a, source->staging);
    dfsae__free(&a, source);
}

void dfsae__source_view(dfsae_source *s, const float *X, size_t n, size_t d)
{
    memset(s, 0, sizeof *s);
    s->element = DFSAE_ELEM_F32;
    s->n = n;
    s->d = d;
    s->array = X;
}

static int consecutive(const size_t *rows, size_t count)
{
    for (size_t i = 1; i < count; ++i)
        if (rows[i] != rows[0] + i)
            return 0;
    return 1;
}

/* One callback call for at most PIECE rows, widened into out; *bad: the
 * index of the piece's first non-finite value, or count x d (looked for
 * only when `check`). */
static int read_piece(dfsae_source *s, const size_t *rows, size_t count,
                      float *out, int check, size_t *bad, char *err)
{
    void *dst = s->element == DFSAE_ELEM_F32 ? (void *)out : s->staging;
    int rc = s->read(s->user, rows, count, dst);
    if (rc != 0)
        return dfsae__fail(err, DFSAE_ERR_IO,
                           "source: the read callback returned %d for %zu "
                           "rows from row %zu",
                           rc, count, rows[0]);
    if (s->element != DFSAE_ELEM_F32)
        *bad = widen(s, s->staging, out, count * s->d);
    else
        *bad =
            check ? dfsae__first_non_finite(out, count * s->d) : count * s->d;
    return DFSAE_OK;
}

/* A callback's rows in pieces of at most PIECE: source rows rows[i], or
 * first + i when rows is NULL. Every piece is read before a non-finite
 * value is reported (a failed read wins, as when the rows were checked
 * after the batch). */
static int read_pieces(dfsae_source *s, const size_t *rows, size_t first,
                       size_t count, float *out, const char *check, char *err)
{
    const size_t d = s->d;
    size_t bad = count * d;
    size_t seq[DFSAE__SOURCE_PIECE];
    for (size_t done = 0; done < count; done += DFSAE__SOURCE_PIECE) {
        size_t piece = count - done < DFSAE__SOURCE_PIECE ? count - done
                                                          : DFSAE__SOURCE_PIECE;
        const size_t *ask = rows + done;
        if (rows == NULL) {
            for (size_t i = 0; i < piece; ++i)
                seq[i] = first + done + i;
            ask = seq;
        }
        size_t at = piece * d;
        int st =
            read_piece(s, ask, piece, out + done * d, check != NULL, &at, err);
        if (st != DFSAE_OK)
            return st;
        if (bad == count * d && at != piece * d)
            bad = done * d + at;
    }
    if (check == NULL || bad == count * d)
        return DFSAE_OK;
    const size_t row = rows != NULL ? rows[bad / d] : first + bad / d;
    return dfsae__fail_non_finite_row(err, check, row, bad % d);
}

int dfsae__source_gather(dfsae_source *s, const size_t *rows, size_t count,
                         float *out, const float **view, const char *check,
                         char *err)
{
    const size_t d = s->d;
    if (view != NULL)
        *view = out;
    if (dfsae__source_is_array(s)) {
        const size_t esize = element_size(s->element);
        const unsigned char *base = s->array;
        if (view != NULL && s->element == DFSAE_ELEM_F32 &&
            consecutive(rows, count)) {
            *view = (const float *)s->array + rows[0] * d;
            return DFSAE_OK;
        }
        for (size_t i = 0; i < count; ++i)
            widen(s, base + rows[i] * d * esize, out + i * d, d);
        return DFSAE_OK;
    }
    return read_pieces(s, rows, 0, count, out, check, err);
}

int dfsae__source_range(dfsae_source *s, size_t first, size_t count, float *out,
                        const float **view, const char *check, char *err)
{
    const size_t d = s->d;
    if (view != NULL)
        *view = out;
    if (dfsae__source_is_array(s)) {
        if (view != NULL && s->element == DFSAE_ELEM_F32) {
            *view = (const float *)s->array + first * d;
            return DFSAE_OK;
        }
        const unsigned char *base = s->array;
        widen(s, base + first * d * element_size(s->element), out, count * d);
        return DFSAE_OK;
    }
    return read_pieces(s, NULL, first, count, out, check, err);
}

int dfsae_source_read(dfsae_source *source, size_t first, size_t count,
                      float *out)
{
    if (source == NULL || out == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (first > source->n || count > source->n - first)
        return DFSAE_ERR_INVALID_ARG;
    char err[DFSAE_ERR_LEN];
    return dfsae__source_range(source, first, count, out, NULL, NULL, err);
}

size_t dfsae__source_first_non_finite(const dfsae_source *s)
{
    const size_t count = s->n * s->d;
    if (!dfsae__source_is_array(s) || count == 0)
        return count;
    if (s->element == DFSAE_ELEM_F32)
        return dfsae__first_non_finite(s->array, count);
    return dfsae__half_first_special(s->array, count,
                                     s->element == DFSAE_ELEM_BF16);
}
