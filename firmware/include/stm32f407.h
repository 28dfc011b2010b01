/*
 * stm32f407.h - the few STM32F407 / Cortex-M4 registers this firmware uses.
 *
 * Written from RM0090 (STM32F405/407 reference manual) and the ARMv7-M
 * architecture reference manual. No vendor headers: only what we touch,
 * as plain addresses so the emulator and the firmware agree on one map.
 */
#ifndef STM32F407_H
#define STM32F407_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- RCC (RM0090 section 7.3) ------------------------------------------ */
#define RCC_BASE          0x40023800u
#define RCC_CR            REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR       REG32(RCC_BASE + 0x04u)
#define RCC_CFGR          REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR       REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR       REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR       REG32(RCC_BASE + 0x44u)

#define RCC_CR_HSION      (1u << 0)
#define RCC_CR_HSIRDY     (1u << 1)
#define RCC_CR_HSEON      (1u << 16)
#define RCC_CR_HSERDY     (1u << 17)
#define RCC_CR_HSEBYP     (1u << 18)
#define RCC_CR_PLLON      (1u << 24)
#define RCC_CR_PLLRDY     (1u << 25)

#define RCC_PLLCFGR_M_Pos   0u   /* 6 bits, VCO input = src / M   */
#define RCC_PLLCFGR_N_Pos   6u   /* 9 bits, VCO = input * N       */
#define RCC_PLLCFGR_P_Pos   16u  /* 2 bits, 00=/2 01=/4 10=/6 11=/8 */
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_PLLCFGR_Q_Pos   24u  /* 4 bits, USB/SDIO clock = VCO / Q */

#define RCC_CFGR_SW_Msk     (3u << 0)
#define RCC_CFGR_SW_HSI     (0u << 0)
#define RCC_CFGR_SW_HSE     (1u << 0)
#define RCC_CFGR_SW_PLL     (2u << 0)
#define RCC_CFGR_SWS_Msk    (3u << 2)
#define RCC_CFGR_SWS_PLL    (2u << 2)
#define RCC_CFGR_HPRE_DIV1  (0u << 4)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)

#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_AHB1ENR_GPIOBEN (1u << 1)
#define RCC_AHB1ENR_GPIODEN (1u << 3)
#define RCC_AHB1ENR_GPIOEEN (1u << 4)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_PWREN   (1u << 28)
#define RCC_APB1ENR_I2C1EN  (1u << 21)
#define RCC_APB2ENR_SYSCFGEN (1u << 14)
#define RCC_APB2ENR_SPI1EN  (1u << 12)

/* ---- FLASH interface (RM0090 section 3.9) ------------------------------ */
#define FLASH_BASE_R      0x40023C00u
#define FLASH_ACR         REG32(FLASH_BASE_R + 0x00u)
#define FLASH_ACR_LATENCY_Msk (7u << 0)
#define FLASH_ACR_LATENCY_5WS (5u << 0)
#define FLASH_ACR_PRFTEN  (1u << 8)
#define FLASH_ACR_ICEN    (1u << 9)
#define FLASH_ACR_DCEN    (1u << 10)

/* ---- PWR (RM0090 section 5.4) ------------------------------------------ */
#define PWR_BASE          0x40007000u
#define PWR_CR            REG32(PWR_BASE + 0x00u)
#define PWR_CR_VOS        (1u << 14)  /* 1 = scale 1, needed for 168 MHz */

/* ---- GPIO (RM0090 section 8.4) ----------------------------------------- */
#define GPIOA_BASE        0x40020000u
#define GPIOB_BASE        0x40020400u
#define GPIOD_BASE        0x40020C00u
#define GPIOE_BASE        0x40021000u
#define GPIO_MODER(b)     REG32((b) + 0x00u)
#define GPIO_OTYPER(b)    REG32((b) + 0x04u)
#define GPIO_OSPEEDR(b)   REG32((b) + 0x08u)
#define GPIO_PUPDR(b)     REG32((b) + 0x0Cu)
#define GPIO_IDR(b)       REG32((b) + 0x10u)
#define GPIO_ODR(b)       REG32((b) + 0x14u)
#define GPIO_BSRR(b)      REG32((b) + 0x18u)
#define GPIO_AFRL(b)      REG32((b) + 0x20u)
#define GPIO_AFRH(b)      REG32((b) + 0x24u)

#define GPIO_MODE_INPUT   0u
#define GPIO_MODE_OUTPUT  1u
#define GPIO_MODE_AF      2u
#define GPIO_MODE_ANALOG  3u

/* ---- USART2 (RM0090 section 30.6) -------------------------------------- */
#define USART2_BASE       0x40004400u
#define USART2_SR         REG32(USART2_BASE + 0x00u)
#define USART2_DR         REG32(USART2_BASE + 0x04u)
#define USART2_BRR        REG32(USART2_BASE + 0x08u)
#define USART2_CR1        REG32(USART2_BASE + 0x0Cu)
#define USART2_CR2        REG32(USART2_BASE + 0x10u)
#define USART2_CR3        REG32(USART2_BASE + 0x14u)

#define USART_SR_ORE      (1u << 3)
#define USART_SR_RXNE     (1u << 5)
#define USART_SR_TC       (1u << 6)
#define USART_SR_TXE      (1u << 7)
#define USART_CR1_RE      (1u << 2)
#define USART_CR1_RXNEIE  (1u << 5)
#define USART_CR1_TE      (1u << 3)
#define USART_CR1_UE      (1u << 13)
#define USART_CR1_OVER8   (1u << 15)

/* ---- SPI1 (RM0090 section 28.5) ---------------------------------------- */
#define SPI1_BASE         0x40013000u
#define SPI1_CR1          REG32(SPI1_BASE + 0x00u)
#define SPI1_CR2          REG32(SPI1_BASE + 0x04u)
#define SPI1_SR           REG32(SPI1_BASE + 0x08u)
#define SPI1_DR           REG32(SPI1_BASE + 0x0Cu)

#define SPI_CR1_CPHA      (1u << 0)
#define SPI_CR1_CPOL      (1u << 1)
#define SPI_CR1_MSTR      (1u << 2)
#define SPI_CR1_BR_Pos    3u         /* fPCLK / 2^(BR+1) */
#define SPI_CR1_SPE       (1u << 6)
#define SPI_CR1_SSI       (1u << 8)
#define SPI_CR1_SSM       (1u << 9)
#define SPI_SR_RXNE       (1u << 0)
#define SPI_SR_TXE        (1u << 1)
#define SPI_SR_OVR        (1u << 6)
#define SPI_SR_BSY        (1u << 7)

/* ---- I2C1 (RM0090 section 27.6) ---------------------------------------- */
#define I2C1_BASE         0x40005400u
#define I2C1_CR1          REG32(I2C1_BASE + 0x00u)
#define I2C1_CR2          REG32(I2C1_BASE + 0x04u)
#define I2C1_OAR1         REG32(I2C1_BASE + 0x08u)
#define I2C1_DR           REG32(I2C1_BASE + 0x10u)
#define I2C1_SR1          REG32(I2C1_BASE + 0x14u)
#define I2C1_SR2          REG32(I2C1_BASE + 0x18u)
#define I2C1_CCR          REG32(I2C1_BASE + 0x1Cu)
#define I2C1_TRISE        REG32(I2C1_BASE + 0x20u)

#define I2C_CR1_PE        (1u << 0)
#define I2C_CR1_START     (1u << 8)
#define I2C_CR1_STOP      (1u << 9)
#define I2C_CR1_ACK       (1u << 10)
#define I2C_CR1_POS       (1u << 11)
#define I2C_CR1_SWRST     (1u << 15)
#define I2C_SR1_SB        (1u << 0)
#define I2C_SR1_ADDR      (1u << 1)
#define I2C_SR1_BTF       (1u << 2)
#define I2C_SR1_RXNE      (1u << 6)
#define I2C_SR1_TXE       (1u << 7)
#define I2C_SR1_AF        (1u << 10)
#define I2C_CCR_FS        (1u << 15)

/* ---- SYSCFG / EXTI (RM0090 sections 9.2, 12.3) ------------------------- */
#define SYSCFG_EXTICR1    REG32(0x40013808u)
#define EXTI_IMR          REG32(0x40013C00u)
#define EXTI_RTSR         REG32(0x40013C08u)
#define EXTI_FTSR         REG32(0x40013C0Cu)
#define EXTI_SWIER        REG32(0x40013C10u)
#define EXTI_PR           REG32(0x40013C14u)

/* ---- NVIC / SysTick (ARMv7-M ARM B3.3, B3.4) --------------------------- */
#define NVIC_ISER(n)      REG32(0xE000E100u + 4u * (n))
#define NVIC_ICPR(n)      REG32(0xE000E280u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))
#define SCB_SHPR3         REG32(0xE000ED20u)
#define SYST_CSR          REG32(0xE000E010u)
#define SYST_RVR          REG32(0xE000E014u)
#define SYST_CVR          REG32(0xE000E018u)
#define SYST_CSR_ENABLE   (1u << 0)
#define SYST_CSR_TICKINT  (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define IRQ_EXTI0         6u
#define IRQ_USART2        38u

/* Device interrupts with a vector (startup_stm32f407.c, linker/stm32f407vg.ld): 0..6 (EXTI0) and 38 (USART2);
 * the vector words of 7..37 hold constant data, those above 38 are not in flash. */
#define IRQ_HAS_VECTOR(irq) ((irq) <= IRQ_EXTI0 || (irq) == IRQ_USART2)

static inline void nvic_enable_irq(uint32_t irq, uint8_t priority)
{
    NVIC_IPR_BYTE(irq) = priority;
    NVIC_ICPR(irq >> 5) = 1u << (irq & 31u);
    NVIC_ISER(irq >> 5) = 1u << (irq & 31u);
}
/* Constant data placed in the vector words of IRQs 7..37 (linker/stm32f407vg.ld), which cost flash anyway:
 * the clock set-up tables (system_stm32f4.c) and the LIS3DSH configuration, 124 of the 124 bytes.
 * Makefile VECTOR_GAP=0 (VECTOR_GAP_DATA 0): that data goes to .rodata like any other and the 31 words are
 * zero (still never read: the same IRQs are never enabled); 124 B more flash. */
#if !defined(VECTOR_GAP_DATA) || VECTOR_GAP_DATA
#define VECTOR_GAP __attribute__((section(".rodata.vector_gap")))
#else
#define VECTOR_GAP
#endif

/* An interrupt without a vector would vector through whatever is at its place in flash. */
#define nvic_enable(irq, priority)                                                                       \
    do {                                                                                                 \
        _Static_assert(IRQ_HAS_VECTOR(irq), "IRQ without a vector: give it one in startup_stm32f407.c"); \
        nvic_enable_irq((irq), (priority));                                                              \
    } while (0)

static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
/* Sleep until an interrupt is pending; with PRIMASK set it wakes but the handler runs after cpsie. */
static inline void cpu_wfi(void) { __asm volatile("wfi" ::: "memory"); }

/* ---- Cortex-M4 system control space (ARMv7-M ARM, B3.2) --------------- */
#define SCB_ICSR          REG32(0xE000ED04u)
#define SCB_VTOR          REG32(0xE000ED08u)
#define SCB_AIRCR         REG32(0xE000ED0Cu)
#define SCB_CFSR          REG32(0xE000ED28u)
#define SCB_CPACR         REG32(0xE000ED88u)
#define SCB_AIRCR_VECTKEY     (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)
#define SCB_CPACR_CP10_CP11   (0xFu << 20)  /* full access to the FPU */

#define COREDEBUG_DEMCR   REG32(0xE000EDFCu)
#define DEMCR_TRCENA      (1u << 24)
#define DWT_CTRL          REG32(0xE0001000u)
#define DWT_CYCCNT        REG32(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)

/* Barriers without CMSIS. */
static inline void cpu_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void cpu_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }

/* Upper bound for every busy-wait on a hardware flag: a missing or dead
 * peripheral must turn into an error report, never a hang. */
#define HW_WAIT_LOOPS     100000u

#endif /* STM32F407_H */
