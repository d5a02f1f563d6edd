/* Header of the ABI self-test fixture (see abi_fixture.c). */
#define DFSAE_API
DFSAE_API int dfsae_fixture_present(void);
DFSAE_API int dfsae_fixture_absent(void);
int dfsae_fixture_noapi(void);
