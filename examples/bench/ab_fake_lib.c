/* A stand-in for libdfsae that has only the version calls and says it is
 * FAKE_MAJOR.0.0: the A/B smoke test (ab_smoke.sh) loads it to see the
 * version check (2) and the missing-symbol check (1) refuse it. */
unsigned dfsae_version_number(void);
const char *dfsae_version_string(void);

#define STR_(x) #x
#define STR(x)  STR_(x)

unsigned dfsae_version_number(void)
{
    return FAKE_MAJOR * 10000u;
}

const char *dfsae_version_string(void)
{
    return STR(FAKE_MAJOR) ".0.0";
}
