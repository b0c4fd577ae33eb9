// glibc's malloc settings (mallopt) and statistics (mallinfo2): <malloc.h>, which the Glibc
// module does not bring.
#include <malloc.h>
