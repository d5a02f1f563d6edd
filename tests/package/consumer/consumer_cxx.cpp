// The same checks as consumer.c, compiled as C++: dfsae.h must be usable
// from C++ without any wrapping by the user.
#include "consumer.c"
