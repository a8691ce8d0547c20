/* The parts of libtessera written in C: the thread-local error message and the options'
 * defaults. Everything else is implemented in Swift (Sources/TesseraC, `@c @implementation`). */
#include "tessera_internal.h"

#include <string.h>

static _Thread_local char last_error[1024];

const char *tessera_last_error(void) { return last_error; }

void tessera_internal_set_error(const char *message) {
    if (message == NULL) {
        last_error[0] = 0;
        return;
    }
    strncpy(last_error, message, sizeof last_error - 1);
    last_error[sizeof last_error - 1] = 0;
}

tessera_status tessera_options_init(tessera_options *options, uint32_t struct_size) {
    if (options == NULL) {
        tessera_internal_set_error("tessera_options_init: options is NULL");
        return TESSERA_INVALID_ARGUMENT;
    }
    if (struct_size < offsetof(tessera_options, progress) || struct_size > sizeof(tessera_options)) {
        tessera_internal_set_error("tessera_options_init: struct_size is not the size of a tessera_options this library knows; "
                                   "pass sizeof(tessera_options)");
        return TESSERA_INVALID_ARGUMENT;
    }
    tessera_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.struct_size = struct_size;
    defaults.problem = TESSERA_GRAM;
    defaults.power = 1;
    defaults.ridge = 0;
    defaults.method = TESSERA_METHOD_AUTO;
    defaults.sketch = TESSERA_SKETCH_SPARSE_SIGN;
    defaults.sketch_size_factor = 4;
    defaults.tolerance = 0;
    defaults.max_iterations = 500;
    defaults.seed = 0;
    defaults.memory_budget = 0;
    defaults.rank = 0;
    defaults.rank_deficient = TESSERA_RANK_MIN_NORM;
    defaults.rcond = -1;
    defaults.precision = TESSERA_PRECISION_AUTO;
    memcpy(options, &defaults, struct_size);
    tessera_internal_set_error(NULL);
    return TESSERA_OK;
}
