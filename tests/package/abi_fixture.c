/* A library with deliberate ABI faults, for check_abi.cmake's self-test:
 * a leaked non-dfsae_ symbol, an exported function the header does not
 * declare, and (in abi_fixture.h) a declared function that is not here
 * and one declared without DFSAE_API (so hidden). */
#define FIXTURE_EXPORT __attribute__((visibility("default")))

FIXTURE_EXPORT int dfsae_fixture_present(void);
FIXTURE_EXPORT int leaky_helper(void);
FIXTURE_EXPORT int dfsae_fixture_undeclared(void);

int dfsae_fixture_present(void)
{
    return 1;
}
int leaky_helper(void)
{
    return 2;
}
int dfsae_fixture_undeclared(void)
{
    return 3;
}
int dfsae_fixture_noapi(void);
int dfsae_fixture_noapi(void)
{
    return 4;
}
