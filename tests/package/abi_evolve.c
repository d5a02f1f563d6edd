/* See abi_evolve.h. The bodies differ so that no two functions are folded
 * into one symbol (their debug information would then be lost). */
#ifndef DFSAE_STATIC_LINKING_ONLY
#define DFSAE_STATIC_LINKING_ONLY
#endif
#include "abi_evolve.h"

struct dfsae_evo {
    int v;
};

int dfsae_evo_kept(const dfsae_evo *e, int key)
{
    return e ? e->v + key : key;
}

#if EVO_VARIANT != 3
int dfsae_evo_removed(int x)
{
    return x;
}
#endif

#if EVO_VARIANT == 2
int dfsae_evo_added(int x)
{
    return x + 1;
}
int dfsae_evo_experimental(int x, int y)
{
    return x + y;
}
#else
int dfsae_evo_experimental(int x)
{
    return x - 7;
}
#endif

#if EVO_VARIANT == 4
int dfsae_evo_changed(double x)
{
    return (int)(x * 3);
}
#else
int dfsae_evo_changed(int x)
{
    return x * 3;
}
#endif
