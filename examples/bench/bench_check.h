/* --check: write small problems and dfsae's results on them, so that
 * torch_step.py --check can show that it computes the same function. */
#ifndef DFSAE_BENCH_CHECK_H
#define DFSAE_BENCH_CHECK_H

/* Writes DIR/<problem>_{X,W,b,grad,grad_wr,step}.npy and DIR/check.json.
 * Returns a process exit code (0 on success). */
int bench_check_write(const char *dir, unsigned long long seed);

#endif
