// zlib: deflate streams (gzip members, HDF5 and zip entries).
#include <zlib.h>

// inflateInit2 is a macro; Swift cannot call it.
static inline int graft_inflate_init2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
