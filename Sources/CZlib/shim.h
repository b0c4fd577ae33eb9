// zlib, as Debian's zlib1g-dev installs it (pkg-config `zlib`): gzip compression for the
// OTLP/HTTP exporter (Content-Encoding: gzip) and inflate in its tests.
#include <zlib.h>
