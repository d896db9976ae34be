/* sys.c - see sys.h: libc's binding of the interface, for the CLI and the
 * unit tests.  The only core file that names libc's I/O calls. */
#include <fcntl.h>
#include <unistd.h>

#include "core/sys.h"

rc_sys rc_sys_fn = { open, close, read, write };
