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

static int wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
    for (uint32_t i = 0; i < HW_WAIT_LOOPS; i++) {
        if ((*reg & mask) == want) {
            return 0;
        }
    }
    return -1;
}

/* Return to the reset clock configuration: HSI, no prescalers, PLL/HSE off. */
static void stay_on_hsi(void)
{
    RCC_CR |= RCC_CR_HSION;
    (void)wait_set(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY);
    RCC_CFGR = 0u;                        /* SW = HSI, AHB/APB1/APB2 = /1 */
    RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON);
    core_hz = HSI_HZ;
    apb1_hz = HSI_HZ;
    apb2_hz = HSI_HZ;
    fell_back = 1u;
}

void system_init(void)
{
    /* The regulator must be in scale 1 before running above 144 MHz;
     * PWR registers are only writable with the PWR clock on. */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS;

    RCC_CR |= RCC_CR_HSEON;
    if (wait_set(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY) != 0) {
        stay_on_hsi();
        return;
    }

    RCC_CR &= ~RCC_CR_PLLON;              /* PLLCFGR is writable only with PLL off */
    RCC_PLLCFGR = (PLL_M << RCC_PLLCFGR_M_Pos) | (PLL_N << RCC_PLLCFGR_N_Pos) |
                  (PLL_P_DIV2 << RCC_PLLCFGR_P_Pos) | RCC_PLLCFGR_SRC_HSE |
                  (PLL_Q << RCC_PLLCFGR_Q_Pos);
    RCC_CR |= RCC_CR_PLLON;
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY) != 0) {
        stay_on_hsi();
        return;
    }

    /* 168 MHz at 3.3 V needs 5 wait states (RM0090 table 10); raise the
     * latency before the switch, never after. */
    FLASH_ACR = FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    if ((FLASH_ACR & FLASH_ACR_LATENCY_Msk) != FLASH_ACR_LATENCY_5WS) {
        stay_on_hsi();
        return;
    }

    RCC_CFGR = RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2 | RCC_CFGR_SW_HSI;
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    if (wait_set(&RCC_CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_PLL) != 0) {
        stay_on_hsi();
        return;
    }

    core_hz = PLL_HZ;
    apb1_hz = PLL_HZ / 4u;
    apb2_hz = PLL_HZ / 2u;
    fell_back = 0u;
}

uint32_t system_core_clock_hz(void) { return core_hz; }
uint32_t system_apb1_hz(void) { return apb1_hz; }
uint32_t system_apb2_hz(void) { return apb2_hz; }
int system_clock_fell_back(void) { return fell_back; }
