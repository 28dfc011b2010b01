/*
 * startup_stm32f407.c - vector table and reset/fault handlers, in C.
 *
 * The table is placed in .isr_vector at 0x08000000 by the linker script.
 * Faults print "ERR code=<fault> pc=0x<stacked PC>" (if the UART is up) and
 * then request a system reset: the board never hangs silently.
 */
#include <stdint.h>
#include "stm32f407.h"
#include "system_stm32f4.h"
#include "uart.h"

/* Symbols from linker/stm32f407vg.ld. */
extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sccmbss, _eccmbss, _sstack;

/* Stack paint: the emulator (and a debugger) find the high-water mark as the lowest overwritten word. */
#define STACK_PAINT 0xA5A5A5A5u

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void fault_report(const uint32_t *frame, uint32_t kind) __attribute__((noreturn, used));

/* Handlers we do not use yet: weak, so a driver can override by name. */
#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

/* 82 device interrupts, RM0090 table 61 (position 0..81). */
void WWDG_IRQHandler(void) WEAK_DEFAULT;
void PVD_IRQHandler(void) WEAK_DEFAULT;
void TAMP_STAMP_IRQHandler(void) WEAK_DEFAULT;
void RTC_WKUP_IRQHandler(void) WEAK_DEFAULT;
void FLASH_IRQHandler(void) WEAK_DEFAULT;
void RCC_IRQHandler(void) WEAK_DEFAULT;
void EXTI0_IRQHandler(void) WEAK_DEFAULT;
void EXTI1_IRQHandler(void) WEAK_DEFAULT;
void EXTI2_IRQHandler(void) WEAK_DEFAULT;
void EXTI3_IRQHandler(void) WEAK_DEFAULT;
void EXTI4_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream0_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream1_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream2_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream3_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream4_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream5_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream6_IRQHandler(void) WEAK_DEFAULT;
void ADC_IRQHandler(void) WEAK_DEFAULT;
void CAN1_TX_IRQHandler(void) WEAK_DEFAULT;
void CAN1_RX0_IRQHandler(void) WEAK_DEFAULT;
void CAN1_RX1_IRQHandler(void) WEAK_DEFAULT;
void CAN1_SCE_IRQHandler(void) WEAK_DEFAULT;
void EXTI9_5_IRQHandler(void) WEAK_DEFAULT;
void TIM1_BRK_TIM9_IRQHandler(void) WEAK_DEFAULT;
void TIM1_UP_TIM10_IRQHandler(void) WEAK_DEFAULT;
void TIM1_TRG_COM_TIM11_IRQHandler(void) WEAK_DEFAULT;
void TIM1_CC_IRQHandler(void) WEAK_DEFAULT;
void TIM2_IRQHandler(void) WEAK_DEFAULT;
void TIM3_IRQHandler(void) WEAK_DEFAULT;
void TIM4_IRQHandler(void) WEAK_DEFAULT;
void I2C1_EV_IRQHandler(void) WEAK_DEFAULT;
void I2C1_ER_IRQHandler(void) WEAK_DEFAULT;
void I2C2_EV_IRQHandler(void) WEAK_DEFAULT;
void I2C2_ER_IRQHandler(void) WEAK_DEFAULT;
void SPI1_IRQHandler(void) WEAK_DEFAULT;
void SPI2_IRQHandler(void) WEAK_DEFAULT;
void USART1_IRQHandler(void) WEAK_DEFAULT;
void USART2_IRQHandler(void) WEAK_DEFAULT;
void USART3_IRQHandler(void) WEAK_DEFAULT;
void EXTI15_10_IRQHandler(void) WEAK_DEFAULT;
void RTC_Alarm_IRQHandler(void) WEAK_DEFAULT;
void OTG_FS_WKUP_IRQHandler(void) WEAK_DEFAULT;
void TIM8_BRK_TIM12_IRQHandler(void) WEAK_DEFAULT;
void TIM8_UP_TIM13_IRQHandler(void) WEAK_DEFAULT;
void TIM8_TRG_COM_TIM14_IRQHandler(void) WEAK_DEFAULT;
void TIM8_CC_IRQHandler(void) WEAK_DEFAULT;
void DMA1_Stream7_IRQHandler(void) WEAK_DEFAULT;
void FSMC_IRQHandler(void) WEAK_DEFAULT;
void SDIO_IRQHandler(void) WEAK_DEFAULT;
void TIM5_IRQHandler(void) WEAK_DEFAULT;
void SPI3_IRQHandler(void) WEAK_DEFAULT;
void UART4_IRQHandler(void) WEAK_DEFAULT;
void UART5_IRQHandler(void) WEAK_DEFAULT;
void TIM6_DAC_IRQHandler(void) WEAK_DEFAULT;
void TIM7_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream0_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream1_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream2_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream3_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream4_IRQHandler(void) WEAK_DEFAULT;
void ETH_IRQHandler(void) WEAK_DEFAULT;
void ETH_WKUP_IRQHandler(void) WEAK_DEFAULT;
void CAN2_TX_IRQHandler(void) WEAK_DEFAULT;
void CAN2_RX0_IRQHandler(void) WEAK_DEFAULT;
void CAN2_RX1_IRQHandler(void) WEAK_DEFAULT;
void CAN2_SCE_IRQHandler(void) WEAK_DEFAULT;
void OTG_FS_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream5_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream6_IRQHandler(void) WEAK_DEFAULT;
void DMA2_Stream7_IRQHandler(void) WEAK_DEFAULT;
void USART6_IRQHandler(void) WEAK_DEFAULT;
void I2C3_EV_IRQHandler(void) WEAK_DEFAULT;
void I2C3_ER_IRQHandler(void) WEAK_DEFAULT;
void OTG_HS_EP1_OUT_IRQHandler(void) WEAK_DEFAULT;
void OTG_HS_EP1_IN_IRQHandler(void) WEAK_DEFAULT;
void OTG_HS_WKUP_IRQHandler(void) WEAK_DEFAULT;
void OTG_HS_IRQHandler(void) WEAK_DEFAULT;
void DCMI_IRQHandler(void) WEAK_DEFAULT;
void CRYP_IRQHandler(void) WEAK_DEFAULT;
void HASH_RNG_IRQHandler(void) WEAK_DEFAULT;
void FPU_IRQHandler(void) WEAK_DEFAULT;

typedef void (*vector_t)(void);

#define NUM_DEVICE_IRQS 82u

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16u + NUM_DEVICE_IRQS] = {
    (vector_t)(uintptr_t)&_estack,  /* initial MSP */
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,                     /* reserved */
    SVC_Handler,
    DebugMon_Handler,
    0,                              /* reserved */
    PendSV_Handler,
    SysTick_Handler,
    WWDG_IRQHandler, PVD_IRQHandler, TAMP_STAMP_IRQHandler, RTC_WKUP_IRQHandler,
    FLASH_IRQHandler, RCC_IRQHandler, EXTI0_IRQHandler, EXTI1_IRQHandler,
    EXTI2_IRQHandler, EXTI3_IRQHandler, EXTI4_IRQHandler, DMA1_Stream0_IRQHandler,
    DMA1_Stream1_IRQHandler, DMA1_Stream2_IRQHandler, DMA1_Stream3_IRQHandler,
    DMA1_Stream4_IRQHandler, DMA1_Stream5_IRQHandler, DMA1_Stream6_IRQHandler,
    ADC_IRQHandler, CAN1_TX_IRQHandler, CAN1_RX0_IRQHandler, CAN1_RX1_IRQHandler,
    CAN1_SCE_IRQHandler, EXTI9_5_IRQHandler, TIM1_BRK_TIM9_IRQHandler,
    TIM1_UP_TIM10_IRQHandler, TIM1_TRG_COM_TIM11_IRQHandler, TIM1_CC_IRQHandler,
    TIM2_IRQHandler, TIM3_IRQHandler, TIM4_IRQHandler, I2C1_EV_IRQHandler,
    I2C1_ER_IRQHandler, I2C2_EV_IRQHandler, I2C2_ER_IRQHandler, SPI1_IRQHandler,
    SPI2_IRQHandler, USART1_IRQHandler, USART2_IRQHandler, USART3_IRQHandler,
    EXTI15_10_IRQHandler, RTC_Alarm_IRQHandler, OTG_FS_WKUP_IRQHandler,
    TIM8_BRK_TIM12_IRQHandler, TIM8_UP_TIM13_IRQHandler, TIM8_TRG_COM_TIM14_IRQHandler,
    TIM8_CC_IRQHandler, DMA1_Stream7_IRQHandler, FSMC_IRQHandler, SDIO_IRQHandler,
    TIM5_IRQHandler, SPI3_IRQHandler, UART4_IRQHandler, UART5_IRQHandler,
    TIM6_DAC_IRQHandler, TIM7_IRQHandler, DMA2_Stream0_IRQHandler,
    DMA2_Stream1_IRQHandler, DMA2_Stream2_IRQHandler, DMA2_Stream3_IRQHandler,
    DMA2_Stream4_IRQHandler, ETH_IRQHandler, ETH_WKUP_IRQHandler, CAN2_TX_IRQHandler,
    CAN2_RX0_IRQHandler, CAN2_RX1_IRQHandler, CAN2_SCE_IRQHandler, OTG_FS_IRQHandler,
    DMA2_Stream5_IRQHandler, DMA2_Stream6_IRQHandler, DMA2_Stream7_IRQHandler,
    USART6_IRQHandler, I2C3_EV_IRQHandler, I2C3_ER_IRQHandler,
    OTG_HS_EP1_OUT_IRQHandler, OTG_HS_EP1_IN_IRQHandler, OTG_HS_WKUP_IRQHandler,
    OTG_HS_IRQHandler, DCMI_IRQHandler, CRYP_IRQHandler, HASH_RNG_IRQHandler,
    FPU_IRQHandler,
};

/* Keep the copy/zero loops as loops: GCC would otherwise turn them into
 * calls to newlib's memcpy/memset, ~470 bytes of flash for a one-time job. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void Reset_Handler(void)
{
    /* FPU first: with -mfloat-abi=hard the compiler may use s/d registers
     * anywhere, and any FP instruction with CP10/11 disabled is a UsageFault. */
    SCB_CPACR |= SCB_CPACR_CP10_CP11;
    cpu_dsb();
    cpu_isb();

    /* .data: copy initial values from flash (LMA) to SRAM (VMA). */
    const uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    /* .bss: zero. */
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    /* .ccmbss: zero too, so C's "statics start at 0" holds there as well. */
    for (uint32_t *dst = &_sccmbss; dst < &_eccmbss;) {
        *dst++ = 0u;
    }

    /* Paint the unused stack reserve below this frame. */
    uint32_t *sp_now;
    __asm volatile("mov %0, sp" : "=r"(sp_now));
    for (uint32_t *p = &_sstack; p < sp_now - 16; p++) {
        *p = STACK_PAINT;
    }

    system_init();
    (void)main();

    /* main() never returns; if it does, restart rather than run off. */
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    for (;;) {
    }
}

static const char *const fault_names[] = {
    "nmi", "hard_fault", "mem_fault", "bus_fault", "usage_fault",
};

void fault_report(const uint32_t *frame, uint32_t kind)
{
    if (uart_is_up()) {
        uart_puts("ERR code=");
        uart_puts(fault_names[kind < 5u ? kind : 1u]);
        uart_puts(" pc=0x");
        uart_put_hex32(frame[6]);   /* stacked r0 r1 r2 r3 r12 lr pc xpsr */
        uart_putc('\n');
        uart_flush();
    }
    cpu_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    cpu_dsb();
    for (;;) {
    }
}

/* Pick the stack the exception frame was pushed on (EXC_RETURN bit 2),
 * then hand frame + fault kind to fault_report() in C. */
#define FAULT_ENTRY(name, kind)                                     \
    __attribute__((naked)) void name(void)                          \
    {                                                               \
        __asm volatile("tst lr, #4\n"                               \
                       "ite eq\n"                                   \
                       "mrseq r0, msp\n"                            \
                       "mrsne r0, psp\n"                            \
                       "movs r1, #" #kind "\n"                      \
                       "b fault_report\n");                         \
    }

FAULT_ENTRY(NMI_Handler, 0)
FAULT_ENTRY(HardFault_Handler, 1)
FAULT_ENTRY(MemManage_Handler, 2)
FAULT_ENTRY(BusFault_Handler, 3)
FAULT_ENTRY(UsageFault_Handler, 4)

/* Any interrupt nobody claimed: report its number and reset. */
void Default_Handler(void)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    if (uart_is_up()) {
        uart_puts("ERR code=unexpected_irq exc=");
        uart_put_u32(ipsr & 0x1FFu);
        uart_putc('\n');
        uart_flush();
    }
    cpu_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    cpu_dsb();
    for (;;) {
    }
}
