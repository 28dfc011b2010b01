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

/* Device interrupts with a vector (RM0090 table 61): 0..6 and USART2 (38), see IRQ_HAS_VECTOR. */
void WWDG_IRQHandler(void) WEAK_DEFAULT;
void PVD_IRQHandler(void) WEAK_DEFAULT;
void TAMP_STAMP_IRQHandler(void) WEAK_DEFAULT;
void RTC_WKUP_IRQHandler(void) WEAK_DEFAULT;
void FLASH_IRQHandler(void) WEAK_DEFAULT;
void RCC_IRQHandler(void) WEAK_DEFAULT;
void EXTI0_IRQHandler(void) WEAK_DEFAULT;
void USART2_IRQHandler(void) WEAK_DEFAULT;

typedef void (*vector_t)(void);

/* The table holds the vectors the firmware can take: the system exceptions, device IRQs 0..6 (EXTI0 at 6) and
 * USART2 (38), the highest it enables; not the device's 82. An interrupt whose NVIC enable bit is never set is
 * never taken, so its vector is never read (ARMv7-M B1.5.4: only a pending and enabled exception is taken):
 * the 43 words above USART2 are left out, and the 31 words of IRQs 7..37 hold constant data
 * (.rodata.vector_gap, linker/stm32f407vg.ld, which places USART2's vector at word 16 + 38). nvic_enable
 * (stm32f407.h) refuses at compile time an IRQ without a vector. */
_Static_assert(IRQ_HAS_VECTOR(IRQ_EXTI0) && IRQ_HAS_VECTOR(IRQ_USART2) && !IRQ_HAS_VECTOR(IRQ_EXTI0 + 1u) &&
               !IRQ_HAS_VECTOR(IRQ_USART2 - 1u) && !IRQ_HAS_VECTOR(IRQ_USART2 + 1u),
               "the vector table holds IRQs 0..6 and 38");

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16u + 7u] = {
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
    FLASH_IRQHandler, RCC_IRQHandler, EXTI0_IRQHandler,
};

__attribute__((section(".isr_vector_usart2"), used))
const vector_t vector_usart2[1] = {USART2_IRQHandler};

/* [p, end) = v, a word at a time (a loop, not newlib's memset: see below) */
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
static void fill(uint32_t *p, uint32_t *end, uint32_t v)
{
    while (p < end) {
        *p++ = v;
    }
}

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
    /* .bss: zero; .ccmbss too, so C's "statics start at 0" holds there as well. */
    fill(&_sbss, &_ebss, 0u);
    fill(&_sccmbss, &_eccmbss, 0u);

    /* Paint the unused stack reserve below this frame. */
    uint32_t *sp_now;
    __asm volatile("mov %0, sp" : "=r"(sp_now));
    fill(&_sstack, sp_now - 16, STACK_PAINT);

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
