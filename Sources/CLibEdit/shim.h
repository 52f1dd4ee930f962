// libedit's readline-compatible API. <stdio.h> must come first; the header is
// <editline/readline.h>, not <readline/readline.h> (GNU readline may also be installed).
#include <stdio.h>
#include <editline/readline.h>
#include <histedit.h>
