/* Library-level entry points: version and status messages. */
#include "internal.h"

_Static_assert(EAGER_DTYPE_COUNT == 6, "update the dtype tables when adding a dtype");
_Static_assert(EAGER_STATUS_COUNT == 8, "update eager_status_message");

EAGER_API int32_t eager_abi_version(void) { return EAGER_ABI_VERSION; }

EAGER_API const char *eager_status_message(int32_t status) {
  switch (status) {
    case EAGER_OK:
      return "ok";
    case EAGER_ERR_ARGUMENT:
      return "invalid argument";
    case EAGER_ERR_DTYPE:
      return "unsupported dtype";
    case EAGER_ERR_NO_MEMORY:
      return "out of memory";
    case EAGER_ERR_DIVISION_BY_ZERO:
      return "integer division by zero";
    case EAGER_ERR_INDEX:
      return "index out of range";
    case EAGER_ERR_NEGATIVE_POWER:
      return "integers to negative integer powers are not allowed";
    case EAGER_ERR_MPI:
      return "MPI failed (see eager_mpi_error)";
    default:
      return "unknown status";
  }
}
