/* Exhaustive check of softmax_s8.c's reciprocal (tdnn_srdhm_nosat) against the saturating gemmlowp form, for
 * every sum of exps (Q12.19) that up to 8 classes can produce: [1.0, 8.0] in Q12.19. Prints the first mismatch
 * and exits 1, or prints "ok <count>". Built and run by tests/test_softmax_fast.py. */
#include <stdio.h>

#include "../../firmware/nn/softmax_s8.c"

static int32_t reference_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + TDNN_INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tdnn_srdhm(half_denominator, -1010580540);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t one_minus = (1 << 29) - tdnn_srdhm(half_denominator, x);
        x = x + tdnn_sat_shl(tdnn_srdhm(x, one_minus), 2);
    }
    return tdnn_sat_shl(x, 1);
}

int main(void)
{
    long count = 0;
    for (int32_t sum = 1 << 19; sum <= 8 << 19; sum++) {
        int32_t exponent;
        int32_t exponent_ref;
        const int32_t got = reciprocal(sum, &exponent);
        const int32_t headroom_plus_one = (int32_t)__builtin_clz((uint32_t)sum);
        const int32_t a = (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31));
        exponent_ref = ACCUM_INT_BITS - headroom_plus_one + 31 - 8;
        const int32_t want = reference_one_over_one_plus_x(a);
        if (got != want || exponent != exponent_ref || exponent < 1 || got < 0) {
            printf("mismatch sum=%ld got=%ld want=%ld\n", (long)sum, (long)got, (long)want);
            return 1;
        }
        count++;
    }
    printf("ok %ld\n", count);
    return 0;
}
