/* The product Z = X W^T + beta Z for a few rows of X. OpenBLAS's sgemm
 * packs all of W before it multiplies, which at a handful of rows costs
 * more than the product (issue 16). A few rows go through a kernel that
 * reads W once, and so does one row when W does not fit the L2 (else
 * sgemv, then the epilogue; sgemv too where the machine lacks AVX2):
 * four rows of W (a tile that stays in L1) meet every row of X, three at
 * a time with the twelve dot products in registers, while the tile after
 * next is prefetched, a share of it in each pass over X, so that the read
 * of W from memory overlaps the arithmetic instead of preceding it
 * (without the prefetch, 8 rows at 768 -> 4096 took the time of the read
 * plus that of the flops; with all of it in the first pass, that pass
 * stalled). The forward epilogue (checks, bias, phi) is fused: it takes
 * each slab of columns as soon as all rows have it, while it is in L1 (a
 * row-wise phi needs whole rows: after the product). Done in registers as the
 * sums are stored, the checks and the bias made the kernel's stores slower than
 * the pass they saved (2-8 % at 784 -> 64, n = 8). */
#include "blas/dfsae_blas.h"
#include "layers/layers.h"

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#else
#define HAVE_AVX2_KERNEL 0
#endif

/* Above this W is prefetched, and one row takes the kernel. */
#define STREAM_BYTES ((size_t)1 << 20)

/* Batches the kernel takes whole, in blocks of DFSAE__SMALL_MAX_ROWS
 * rows: up to NARROW_MAX_ROWS when W has at most NARROW_K rows of at
 * least NARROW_MIN_COLS, and W and a block of X fit the L2 together (each
 * block then passes all of W from the L2). In the same-process A/B
 * against sgemm (dfsae_bench_latency ab, bench/results) the blocks won
 * only there: at 784 -> 32 and 784 -> 64; they lost with shorter rows
 * (256 -> 64: the per-tile overhead), with more units (784 -> 96 and up,
 * 512 -> 128, 256 -> 256, even in the L2) and when W and the block
 * overflow the L2 (2048 -> 64). */
#define NARROW_K        ((size_t)64)
#define NARROW_MIN_COLS ((size_t)512)
#define NARROW_MAX_ROWS ((size_t)128)
#define L2_BYTES        ((size_t)512 << 10)

#if HAVE_AVX2_KERNEL

#define TILE_W      4 /* rows of W per tile */
#define TILE_X      3 /* rows of X per tile: 12 accumulators + 3 inputs + 1 */
#define LINE_FLOATS ((size_t)16) /* a cache line */
#define KERNEL      __attribute__((target("avx2,fma"), always_inline)) static inline
/* Outputs per slab that phi takes while they are in L1 (16 KiB of Z and
 * as much of A), and the fewest columns per slab. */
#define SLAB_FLOATS   ((size_t)4096)
#define SLAB_MIN_COLS ((size_t)64)

/* Columns per slab, a whole number of tiles. */
static size_t slab_cols(size_t rows)
{
    const size_t c = rows == 1 ? SLAB_FLOATS : SLAB_FLOATS / rows;
    return c < SLAB_MIN_COLS ? SLAB_MIN_COLS : c - c % TILE_W;
}

/* Masks for the last cols % 8 floats of a row: 8 - r lanes on, from
 * offset r of this table. */
static const int tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                   0,  0,  0,  0,  0,  0,  0,  0};

/* The four sums of a[0..3], in order. */
KERNEL __m128 hsum4(const __m256 a[TILE_W])
{
    const __m256 t =
        _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* acc[q][r] += w[r] . x[q] over the 8 floats from column c. */
KERNEL void dots8(const float *const w[TILE_W], const float *const x[], int nx,
                  size_t c, __m256 acc[TILE_X][TILE_W])
{
    __m256 xv[TILE_X];
    for (int q = 0; q < nx; ++q)
        xv[q] = _mm256_loadu_ps(x[q] + c);
    for (int r = 0; r < TILE_W; ++r) {
        const __m256 wr = _mm256_loadu_ps(w[r] + c);
        for (int q = 0; q < nx; ++q)
            acc[q][r] = _mm256_fmadd_ps(wr, xv[q], acc[q][r]);
    }
}

/* sums[q] = (w[r] . x[q])_r over cols floats, for nx <= TILE_X rows of X;
 * nx is a constant where this is inlined, so that the loops unroll and
 * the accumulators stay in registers. ahead (or NULL): a tile of W of
 * which to bring lines lines of each row, from column pf_col, into cache
 * meanwhile, one every step columns (a check per column step would cost
 * the arithmetic more than a loop per line). */
KERNEL void tile_dots(const float *const w[TILE_W], const float *const x[],
                      int nx, size_t cols, const float *const ahead[TILE_W],
                      size_t pf_col, size_t lines, size_t step,
                      __m128 sums[TILE_X])
{
    __m256 acc[TILE_X][TILE_W];
    for (int q = 0; q < nx; ++q)
        for (int r = 0; r < TILE_W; ++r)
            acc[q][r] = _mm256_setzero_ps();
    size_t c = 0;
    if (ahead != NULL) {
        for (size_t l = 0; l < lines; ++l, pf_col += LINE_FLOATS) {
            for (int r = 0; r < TILE_W; ++r)
                _mm_prefetch((const char *)(ahead[r] + pf_col), _MM_HINT_T0);
            for (const size_t e = c + step; c < e; c += 8)
                dots8(w, x, nx, c, acc);
        }
    }
    for (; c + 8 <= cols; c += 8)
        dots8(w, x, nx, c, acc);
    if (c < cols) {
        const __m256i m =
            _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - (cols - c)));
        __m256 xv[TILE_X];
        for (int q = 0; q < nx; ++q)
            xv[q] = _mm256_maskload_ps(x[q] + c, m);
        for (int r = 0; r < TILE_W; ++r) {
            const __m256 wr = _mm256_maskload_ps(w[r] + c, m);
            for (int q = 0; q < nx; ++q)
                acc[q][r] = _mm256_fmadd_ps(wr, xv[q], acc[q][r]);
        }
    }
    for (int q = 0; q < nx; ++q)
        sums[q] = hsum4(acc[q]);
}

/* Rows of W j .. j + TILE_W - 1, the last one repeated past k (the caller
 * stores only the real ones). */
static void tile_rows(const float *W, size_t ldw, size_t k, size_t j,
                      const float *w[TILE_W])
{
    for (size_t r = 0; r < TILE_W; ++r)
        w[r] = W + (j + r < k ? j + r : k - 1) * ldw;
}

/* z[r] = s[r] + beta z[r] for the nw <= TILE_W real outputs; beta = 0
 * must not read z, which may hold anything. */
__attribute__((target("avx2,fma"))) static void store_sums(__m128 s, size_t nw,
                                                           float beta, float *z)
{
    if (nw == TILE_W) {
        if (beta != 0.0f)
            s = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_loadu_ps(z), s);
        _mm_storeu_ps(z, s);
        return;
    }
    float v[TILE_W];
    _mm_storeu_ps(v, s);
    for (size_t r = 0; r < nw; ++r)
        z[r] = beta == 0.0f ? v[r] : beta * z[r] + v[r];
}

/* What the kernel carries for the fused epilogue. Its address goes to
 * fusion_slab, so it stays in memory and takes none of the registers
 * tile_dots needs (all sixteen vector ones and most general ones). */
typedef struct fusion {
    dfsae__epilogue *ep; /* NULL: not fused */
    int row_wise;
    size_t slab, slab0; /* columns per slab, first not yet through it */
} fusion;

/* The epilogue over columns [slab0, done) of all rows once a slab is
 * complete (or the last tile done); a row-wise phi after the last. */
__attribute__((noinline)) static void fusion_slab(fusion *f, size_t rows,
                                                  size_t done, int last)
{
    if (f->row_wise ? last : last || done - f->slab0 >= f->slab) {
        dfsae__epilogue_run(f->ep, 0, rows, f->slab0, done);
        f->slab0 = done;
    }
}

__attribute__((target("avx2,fma"))) static void
kernel_product(const float *X, size_t rows, size_t cols, const float *W,
               size_t ldw, size_t k, float beta, float *Z, dfsae__epilogue *ep)
{
    fusion f = {.ep = ep,
                .row_wise = ep != NULL && ep->act->backprop_row != NULL,
                .slab = slab_cols(rows)};
    const float *w[TILE_W], *ahead[TILE_W];
    /* A W that the L2 holds is not prefetched: there the prefetches only
     * take load slots. */
    const int stream = k * cols * sizeof(float) > STREAM_BYTES;
    /* The columns of the tile two ahead that each pass over X prefetches,
     * whole lines. All in the first pass (a ninth of the tile's time at
     * 32 rows) asked for several times the bandwidth the machine streams
     * at. Two tiles ahead, not one: one row at 768 -> 4096 took 2-4 %
     * less time (there a tile's pass is shorter than the memory's
     * latency). */
    const size_t passes = (rows + TILE_X - 1) / TILE_X;
    const size_t share = ((cols + passes - 1) / passes + LINE_FLOATS - 1) /
                         LINE_FLOATS * LINE_FLOATS;
    /* Columns between two of a pass's prefetches, whole steps of 8. */
    const size_t step = cols / 8 / (share / LINE_FLOATS) * 8;
    for (size_t j = 0; j < k; j += TILE_W) {
        const size_t nw = k - j < TILE_W ? k - j : TILE_W;
        const int last = j + TILE_W >= k;
        const int fetch = stream && j + 2 * TILE_W < k;
        tile_rows(W, ldw, k, j, w);
        if (fetch)
            tile_rows(W, ldw, k, j + 2 * TILE_W, ahead);
        for (size_t i = 0; i < rows; i += TILE_X) {
            const float *x[TILE_X];
            const size_t nx = rows - i < TILE_X ? rows - i : TILE_X;
            /* Two rows go through the three-row tile, the second repeated
             * (faster than a tile of two at 784 -> 64); one through its
             * own. */
            for (size_t q = 0; q < TILE_X; ++q)
                x[q] = X + (i + (q < nx ? q : nx - 1)) * cols;
            /* Each pass over X brings its share of the tile two ahead. */
            const size_t col = i / TILE_X * share;
            const size_t left = col < cols ? cols - col : 0;
            const size_t lines =
                !fetch ? 0
                       : ((share < left ? share : left) + LINE_FLOATS - 1) /
                             LINE_FLOATS;
            const float *const *pf = lines > 0 ? ahead : NULL;
            __m128 sums[TILE_X];
            if (nx > 1)
                tile_dots(w, x, 3, cols, pf, col, lines, step, sums);
            else
                tile_dots(w, x, 1, cols, pf, col, lines, step, sums);
            for (size_t q = 0; q < nx; ++q)
                store_sums(sums[q], nw, beta, Z + (i + q) * k + j);
        }
        if (f.ep != NULL && (last || j + nw - f.slab0 >= f.slab))
            fusion_slab(&f, rows, j + nw, last);
    }
}

static int kernel_available(void)
{
#ifdef DFSAE_PORTABLE_ONLY
    return 0; /* sgemv and sgemm, as on a machine without AVX2 */
#else
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

#else

static void kernel_product(const float *X, size_t rows, size_t cols,
                           const float *W, size_t ldw, size_t k, float beta,
                           float *Z, dfsae__epilogue *ep)
{
    (void)X, (void)rows, (void)cols, (void)W, (void)ldw, (void)k, (void)beta,
        (void)Z, (void)ep;
}

static int kernel_available(void)
{
    return 0;
}

#endif

int dfsae__small_product_takes(size_t rows, size_t cols, size_t k)
{
    const int narrow =
        k <= NARROW_K && cols >= NARROW_MIN_COLS &&
        (k + DFSAE__SMALL_MAX_ROWS) * cols * sizeof(float) <= L2_BYTES;
    return rows == 1 || ((rows <= DFSAE__SMALL_MAX_ROWS ||
                          (narrow && rows <= NARROW_MAX_ROWS)) &&
                         kernel_available());
}

void dfsae__small_product(const float *X, size_t rows, size_t cols,
                          const float *W, size_t ldw, size_t k, float beta,
                          float *Z, dfsae__epilogue *ep)
{
    /* One row: sgemv where W stays in the L2 (there it was 3-8% faster
     * than the kernel at 784 -> 64), the kernel where W streams from
     * memory (7-9% faster than sgemv at 768 -> 4096, its prefetch). */
    if (!kernel_available() ||
        (rows == 1 && k * cols * sizeof(float) <= STREAM_BYTES)) {
        dfsae__sgemv((int)k, (int)cols, 1.0f, W, (int)ldw, X, beta, Z);
        if (ep != NULL)
            dfsae__epilogue_run(ep, 0, 1, 0, k);
    } else {
        kernel_product(X, rows, cols, W, ldw, k, beta, Z, ep);
    }
}
