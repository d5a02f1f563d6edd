/* Header of the ABI-baseline self-test fixture (abi_evolve.c), built in
 * four variants (EVO_VARIANT): 1 the baseline; 2 adds a function and
 * changes an experimental one (both allowed); 3 removes a function; 4
 * changes a parameter's type (both breaks). */
#define DFSAE_API __attribute__((visibility("default")))
typedef struct dfsae_evo dfsae_evo;
DFSAE_API int dfsae_evo_kept(const dfsae_evo *e, int key);
DFSAE_API int dfsae_evo_removed(int x);
#if EVO_VARIANT == 2
DFSAE_API int dfsae_evo_added(int x);
#endif
#if EVO_VARIANT == 4
DFSAE_API int dfsae_evo_changed(double x);
#else
DFSAE_API int dfsae_evo_changed(int x);
#endif
#ifdef DFSAE_STATIC_LINKING_ONLY
#if EVO_VARIANT == 2
DFSAE_API int dfsae_evo_experimental(int x, int y);
#else
DFSAE_API int dfsae_evo_experimental(int x);
#endif
#endif /* DFSAE_STATIC_LINKING_ONLY */
