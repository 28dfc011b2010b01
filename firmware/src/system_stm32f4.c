/*
 * system_stm32f4.c - clock tree: 8 MHz HSE -> PLL -> 168 MHz SYSCLK.
 *
 * PLL: VCO in = 8 MHz / M(8) = 1 MHz, VCO = 1 MHz * N(336) = 336 MHz,
 * SYSCLK = VCO / P(2) = 168 MHz, 48 MHz domain = VCO / Q(7).
 * AHB /1 = 168 MHz, APB1 /4 = 42 MHz (max 42), APB2 /2 = 84 MHz (max 84).
 *
 * Every wait is bounded. If HSE, the PLL or the clock switch never reports
 * ready we undo what we started and stay on the 16 MHz HSI with all bus
 * prescalers at /1, so the rest of the firmware still runs (and the UART
 * baud rate is derived from the clock we actually have).
 */
#include "system_stm32f4.h"
#include "stm32f407.h"
#include "reg_init.h"

#define HSI_HZ     16000000u
#define PLL_M      8u
#define PLL_N      336u
#define PLL_P_DIV2 0u      /* PLLP field encoding for /2 */
#define PLL_Q      7u
#define PLL_HZ     168000000u

static uint32_t core_hz = HSI_HZ;
static uint32_t apb1_hz = HSI_HZ;
static uint32_t apb2_hz = HSI_HZ;
static uint8_t fell_back;

/* Scale 1 regulator (needed above 144 MHz; PWR registers are only writable with the PWR clock on), HSE on,
 * PLL configured (PLLCFGR is writable only with the PLL off) and on, 5 flash wait states for 168 MHz at 3.3 V
 * (RM0090 table 10; raised before the switch, never after), bus prescalers, then the switch to the PLL.
 * Every wait is bounded (reg_init.h). */
/* In the vector table's never-read words (VECTOR_GAP, stm32f407.h). */
static const reg_op_t to_pll[] VECTOR_GAP = {
    REG_FIELD(RCC_APB1ENR, 28u, 1u, 1u),                      /* PWREN */
    REG_FIELD(PWR_CR, 14u, 1u, 1u),                           /* VOS: scale 1 */
    REG_FIELD(RCC_CR, 16u, 1u, 1u),                           /* HSEON */
    REG_WAIT(RCC_CR, 17u, 1u, 1u),                            /* HSERDY */
    REG_FIELD(RCC_CR, 24u, 1u, 0u),                           /* PLLON off */
    /* M = 8, N = 336 (bits 0..14); P = /2, SRC = HSE, Q = 7 (bits 16..31) */
    REG_FIELD(RCC_PLLCFGR, 0u, 15u, (PLL_M << RCC_PLLCFGR_M_Pos) | (PLL_N << RCC_PLLCFGR_N_Pos)),
    REG_FIELD(RCC_PLLCFGR, 16u, 16u, ((PLL_P_DIV2 << RCC_PLLCFGR_P_Pos) | RCC_PLLCFGR_SRC_HSE |
                                      (PLL_Q << RCC_PLLCFGR_Q_Pos)) >> 16),
    REG_FIELD(RCC_CR, 24u, 1u, 1u),                           /* PLLON */
    REG_WAIT(RCC_CR, 25u, 1u, 1u),                            /* PLLRDY */
    REG_WRITE(FLASH_ACR, FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN, 0u),
    REG_WAIT(FLASH_ACR, 0u, 3u, FLASH_ACR_LATENCY_5WS),       /* the latency took */
    REG_WRITE(RCC_CFGR, RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2 | RCC_CFGR_SW_HSI, 0u),
    REG_FIELD(RCC_CFGR, 0u, 2u, RCC_CFGR_SW_PLL),
    REG_WAIT(RCC_CFGR, 2u, 2u, RCC_CFGR_SWS_PLL >> 2),
};

/* Back to the reset clock configuration: HSI, no prescalers, PLL/HSE off. The HSIRDY wait goes on when it times
 * out (REG_WAIT_GO_ON): there is nothing else to try, and the writes after it are what undoes to_pll's clock
 * switch, prescalers, PLL and HSE (a plain REG_WAIT would skip them all). It stays first: the switch to the HSI
 * happens only once the HSI is ready, and the PLL and HSE cannot be turned off while they clock the core. */
static const reg_op_t to_hsi[] VECTOR_GAP = {
    REG_FIELD(RCC_CR, 0u, 1u, 1u),                            /* HSION */
    REG_WAIT_GO_ON(RCC_CR, 1u, 1u, 1u),                       /* HSIRDY */
    REG_WRITE(RCC_CFGR, 0u, 0u),                              /* SW = HSI, AHB/APB1/APB2 = /1 */
    REG_FIELD(RCC_CR, 24u, 1u, 0u),                           /* PLLON off */
    REG_FIELD(RCC_CR, 16u, 1u, 0u),                           /* HSEON off */
};

void system_init(void)
{
    if (REG_INIT(to_pll) == 0) {
        core_hz = PLL_HZ;
        apb1_hz = PLL_HZ / 4u;
        apb2_hz = PLL_HZ / 2u;
        fell_back = 0u;
        return;
    }
    (void)REG_INIT(to_hsi);
    core_hz = HSI_HZ;
    apb1_hz = HSI_HZ;
    apb2_hz = HSI_HZ;
    fell_back = 1u;
}

uint32_t system_core_clock_hz(void) { return core_hz; }
uint32_t system_apb1_hz(void) { return apb1_hz; }
uint32_t system_apb2_hz(void) { return apb2_hz; }
int system_clock_fell_back(void) { return fell_back; }
