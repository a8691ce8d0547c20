// CMPI: the Open MPI C API (Debian's libopenmpi-dev). Open MPI's handles (MPI_COMM_WORLD,
// MPI_DOUBLE, MPI_INT, MPI_SUM, MPI_MIN, MPI_ERRORS_RETURN) are macros over addresses of
// library globals, which Swift does not import, so they are returned by these inline functions.
#ifndef TESSERA_CMPI_SHIM_H
#define TESSERA_CMPI_SHIM_H
#include <mpi.h>
static inline MPI_Comm tessera_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype tessera_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype tessera_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype tessera_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op tessera_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op tessera_mpi_min(void) { return MPI_MIN; }
static inline MPI_Errhandler tessera_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int tessera_mpi_success(void) { return MPI_SUCCESS; }
static inline int tessera_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Status *tessera_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
#endif
