/* reg_init.c - walk a table of peripheral register operations (reg_init.h). */
#include "reg_init.h"

int reg_init(const reg_op_t *ops, uint32_t n)
{
    for (; n > 0u; n--, ops++) {
        volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)(0x40000000u + 4u * ops->reg);
        uint32_t width = ops->width & REG_OP_WIDTH;
        uint32_t mask = ((1u << width) - 1u) << ops->pos;
        uint32_t value = (uint32_t)ops->value << ops->pos;
        if (ops->width & REG_OP_WAIT) {
            uint32_t i = 0;
            while ((*r & mask) != value) {
                if (++i == HW_WAIT_LOOPS) {
                    if (!(ops->width & REG_OP_GO_ON)) {
                        return (int)n;   /* nonzero: the operations left, this wait included */
                    }
                    break;
                }
            }
        } else {
            *r = width ? (*r & ~mask) | value : value;
            cpu_dsb();   /* the write has completed before the next access (reg_init.h) */
        }
    }
    return 0;
}
