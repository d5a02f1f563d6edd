/* The product Z = X W^T + beta Z for a few rows of X. OpenBLAS's sgemm
 * packs all of W before it multiplies, which at a handful of rows costs
 * more than the product (issue 16). One row goes through sgemv; a few
 * rows through a kernel that reads W once: four rows of W (a tile that
 * stays in L1) meet every row of X before the next four are loaded. */
#include "blas/dfsae_blas.h"
#include "layers/layers.h"

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#else
#define HAVE_AVX2_KERNEL 0
#endif

/* Rows up to which the kernel beats sgemm, measured with
 * examples/bench/bench_latency: at 784 -> 64 it wins up to 24 rows and ties
 * at 32, at 768 -> 4096 it wins up to 8 and ties at 16. */
#define SMALL_MAX_ROWS ((size_t)16)

#if HAVE_AVX2_KERNEL

#define TILE_W 4 /* rows of W per tile */
#define TILE_X 3 /* rows of X per tile */

/* Masks for the last cols % 8 floats of a row: 8 - r lanes on, from
 * offset r of this table. */
static const int tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                   0,  0,  0,  0,  0,  0,  0,  0};

__attribute__((target("avx2,fma"))) static inline float hsum(__m256 v)
{
    __m128 s =
        _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* out[q][r] = w[r] . x[q] over cols floats, for a TILE_W x TILE_X tile.
 * Tiles at the edges repeat their last row instead of branching; the
 * caller stores only the real ones. */
__attribute__((target("avx2,fma"))) static void
tile_dots(const float *const w[TILE_W], const float *const x[TILE_X],
          size_t cols, float out[TILE_X][TILE_W])
{
    __m256 acc[TILE_X][TILE_W];
    for (int q = 0; q < TILE_X; ++q)
        for (int r = 0; r < TILE_W; ++r)
            acc[q][r] = _mm256_setzero_ps();
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m256 xv[TILE_X];
        for (int q = 0; q < TILE_X; ++q)
            xv[q] = _mm256_loadu_ps(x[q] + c);
        for (int r = 0; r < TILE_W; ++r) {
            const __m256 wr = _mm256_loadu_ps(w[r] + c);
            for (int q = 0; q < TILE_X; ++q)
                acc[q][r] = _mm256_fmadd_ps(wr, xv[q], acc[q][r]);
        }
    }
    if (c < cols) {
        const __m256i m =
            _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - (cols - c)));
        __m256 xv[TILE_X];
        for (int q = 0; q < TILE_X; ++q)
            xv[q] = _mm256_maskload_ps(x[q] + c, m);
        for (int r = 0; r < TILE_W; ++r) {
            const __m256 wr = _mm256_maskload_ps(w[r] + c, m);
            for (int q = 0; q < TILE_X; ++q)
                acc[q][r] = _mm256_fmadd_ps(wr, xv[q], acc[q][r]);
        }
    }
    for (int q = 0; q < TILE_X; ++q)
        for (int r = 0; r < TILE_W; ++r)
            out[q][r] = hsum(acc[q][r]);
}

static void kernel_product(const float *X, size_t rows, size_t cols,
                           const float *W, size_t ldw, size_t k, float beta,
                           float *Z)
{
    for (size_t j = 0; j < k; j += TILE_W) {
        const size_t nw = k - j < TILE_W ? k - j : TILE_W;
        const float *w[TILE_W];
        for (size_t r = 0; r < TILE_W; ++r)
            w[r] = W + (j + (r < nw ? r : nw - 1)) * ldw;
        for (size_t i = 0; i < rows; i += TILE_X) {
            const size_t nx = rows - i < TILE_X ? rows - i : TILE_X;
            const float *x[TILE_X];
            for (size_t q = 0; q < TILE_X; ++q)
                x[q] = X + (i + (q < nx ? q : nx - 1)) * cols;
            float out[TILE_X][TILE_W];
            tile_dots(w, x, cols, out);
            for (size_t q = 0; q < nx; ++q) {
                float *z = Z + (i + q) * k + j;
                /* beta = 0 must not read Z, which may hold anything. */
                for (size_t r = 0; r < nw; ++r)
                    z[r] = beta == 0.0f ? out[q][r] : beta * z[r] + out[q][r];
            }
        }
    }
}

static int kernel_available(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

static void kernel_product(const float *X, size_t rows, size_t cols,
                           const float *W, size_t ldw, size_t k, float beta,
                           float *Z)
{
    (void)X, (void)rows, (void)cols, (void)W, (void)ldw, (void)k, (void)beta,
        (void)Z;
}

static int kernel_available(void)
{
    return 0;
}

#endif

int dfsae__small_product_takes(size_t rows)
{
    return rows == 1 || (rows <= SMALL_MAX_ROWS && kernel_available());
}

void dfsae__small_product(const float *X, size_t rows, size_t cols,
                          const float *W, size_t ldw, size_t k, float beta,
                          float *Z)
{
    if (rows == 1)
        dfsae__sgemv((int)k, (int)cols, 1.0f, W, (int)ldw, X, beta, Z);
    else
        kernel_product(X, rows, cols, W, ldw, k, beta, Z);
}
