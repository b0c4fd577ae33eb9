// glibc's malloc settings (mallopt, M_TRIM_THRESHOLD, M_TOP_PAD): <malloc.h>, which the Glibc
// module does not bring.
#include <malloc.h>
