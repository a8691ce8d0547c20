// CHwloc: the hwloc C API (topology discovery, CPU binding, NUMA memory binding).
#ifndef TESSERA_CHWLOC_SHIM_H
#define TESSERA_CHWLOC_SHIM_H
#include <hwloc.h>
#endif
