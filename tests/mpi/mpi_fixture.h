/* Shared by the MPI tests: the communicator, data and models made the same
 * way on every rank, and comparisons agreed across the ranks (so that all
 * ranks pass or fail an assertion together instead of one hanging). */
#ifndef DFSAE_MPI_FIXTURE_H
#define DFSAE_MPI_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae_mpi.h"

extern dfsae_mpi fx_mpi;
extern int fx_rank, fx_size;

/* n x d floats from `seed`, the same on every rank. */
float *fx_data(size_t n, size_t d, uint64_t seed);
/* A model with every term on (L_wr at 0.5) and softplus. */
dfsae_model *fx_model(size_t d, size_t k, uint64_t seed);
/* The part [lo, hi) of `total` items that rank r of `size` holds. */
void fx_part(size_t total, int r, int size, size_t *lo, size_t *hi);
/* The shard [k0, k1) of a K-component model (W rows and b). */
dfsae_model *fx_shard(const dfsae_model *full, size_t k0, size_t k1);
/* The shard's slice of a full parameter vector (K x D then K) into out. */
void fx_slice(const float *full, size_t k, size_t d, size_t k0, size_t k1,
              float *out);
/* max |a - b| / max |b| over n values. */
double fx_rel(const float *a, const float *b, size_t n);
/* The largest v of all ranks. */
double fx_max(double v);
/* Init MPI, run the group, finish; returns the failure count. Each rank
 * writes its CMocka XML report to its own file. */
struct CMUnitTest;
int fx_main(int argc, char **argv, const struct CMUnitTest *tests, size_t count,
            const char *name);

#endif
