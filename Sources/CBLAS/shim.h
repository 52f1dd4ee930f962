// OpenBLAS's CBLAS interface (Debian's libopenblas-dev ships openblas.pc, no cblas.pc).
// cblas.h also declares openblas_set_num_threads, openblas_get_config and openblas_get_corename.
#include <cblas.h>
