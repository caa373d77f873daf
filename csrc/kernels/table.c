/* This CPU level's kernel table, for csrc/cpu.c: each name in it is this level's copy
 * (csrc/internal.h renames them). */
#include "internal.h"

#include "generated/kernel_table.h"

const eager_kernel_table EAGER_LEVEL_NAME(eager_kernels) = EAGER_KERNEL_TABLE_INIT;
