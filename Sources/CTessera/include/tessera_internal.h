/* Not part of the public interface (include tessera.h): what the Swift implementation of
 * libtessera needs from C. */
#ifndef TESSERA_INTERNAL_H
#define TESSERA_INTERNAL_H
#include "tessera.h"

/* Stores this thread's last error message (copied, truncated to 1023 bytes); NULL clears it. */
void tessera_internal_set_error(const char *message);

#endif
