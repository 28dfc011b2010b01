/*
 * startup_stm32f407.c - vector table and reset/fault handlers, in C.
 *
 * The table is placed in .isr_vector at 0x08000000 by the linker script.
 * Faults print "ERR code=<fault> pc=0x<stacked PC>", other unclaimed exceptions
 * "ERR code=unexpected_irq exc=<n>" (if the UART is up), and then request a
 * system reset: the board never hangs silently.
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
void Fault_Handler(void);
void fault_report(const uint32_t *frame) __attribute__((noreturn, used));

/* Handlers we do not use yet: weak, so a driver can override by name. Every fault and every unclaimed
 * interrupt shares Fault_Handler, which tells them apart by IPSR. */
#define WEAK_DEFAULT __attribute__((weak, alias("Fault_Handler")))
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

/* Device interrupts, RM0090 table 61, up to USART2 (position 38), the highest the firmware enables. */
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

typedef void (*vector_t)(void);

/* The table ends at the highest interrupt the firmware enables (USART2, position 38; the others are EXTI0 at
 * 6 and SysTick), not at the device's 82: an interrupt whose NVIC enable bit is never set is never taken, so
 * its vector is never read (ARMv7-M B1.5.4: only a pending and enabled exception is taken), and the 43 words
 * above would only ever hold Fault_Handler. A driver that enables a higher IRQ must extend the table
 * (NUM_DEVICE_IRQS in stm32f407.h; nvic_enable checks the IRQ number against it at compile time). */
_Static_assert(IRQ_USART2 + 1u == NUM_DEVICE_IRQS, "the table ends at USART2");

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16u + NUM_DEVICE_IRQS] = {
    (vector_t)(uintptr_t)&_estack,  /* initial MSP */
    Reset_Handler,
    Fault_Handler,                  /* NMI */
    Fault_Handler,                  /* HardFault */
    Fault_Handler,                  /* MemManage */
    Fault_Handler,                  /* BusFault */
    Fault_Handler,                  /* UsageFault */
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
    SPI2_IRQHandler, USART1_IRQHandler, USART2_IRQHandler,
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

/* Exceptions 2..6 (NMI, HardFault, MemManage, BusFault, UsageFault), NUL-separated. */
static const char fault_names[] = "nmi\0hard_fault\0mem_fault\0bus_fault\0usage_fault";

/* A fault prints "ERR code=<fault> pc=0x<stacked PC>", any other exception nobody claimed
 * "ERR code=unexpected_irq exc=<number>" (if the UART is up); then a system reset. */
void fault_report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t exc = ipsr & 0x1FFu;
    if (uart_is_up()) {
        if (exc >= 2u && exc <= 6u) {
            const char *name = fault_names;
            for (uint32_t k = exc - 2u; k > 0u; k--) {
                while (*name++ != '\0') {
                }
            }
            uart_err("%s pc=0x%x\n", name, frame[6]);   /* stacked r0 r1 r2 r3 r12 lr pc xpsr */
        } else {
            uart_err("unexpected_irq exc=%u\n", exc);
        }
        uart_flush();
    }
    cpu_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    cpu_dsb();
    for (;;) {
    }
}

/* Pick the stack the exception frame was pushed on (EXC_RETURN bit 2), then hand it to fault_report(). */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b fault_report\n");
}
