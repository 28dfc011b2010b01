/*
 * sensor.c - accelerometer front end: probe order SPI1 then I2C1, data-ready on INT1 (PE0) -> EXTI0.
 *
 * The EXTI0 handler (priority 0x80: below USART2, whose one-byte data register cannot wait for a FIFO
 * batch on I2C, above SysTick) reads the data as soon as INT1 rises, so the sensor's output is never
 * overwritten while the main loop is busy (a PRED line takes ~5 ms at 115200 baud on a real board), and
 * pushes it into a single-producer/single-consumer queue that the main loop drains. Both sensors raise
 * INT1 per SENSOR_FIFO_WATERMARK samples from their FIFO (lis3dsh.c, lis2dw12.c): one wake-up per batch.
 * Every batch restarts the SysTick deadline (systick.h), so SysTick only fires when the sensor is quiet.
 */
#include "sensor.h"
#include "i2c.h"
#include "lis2dw12.h"
#include "lis3dsh.h"
#include "model.h"
#include "reg_init.h"
#include "spi.h"
#include "systick.h"

#define QUEUE_LEN 16u   /* power of two; 160 ms of samples at 100 Hz; samples that do not fit stay in the FIFO */
#define EXTI0_PRIORITY 0x80u
#define INT1_PIN  0u    /* PE0 */

/* Sensors compiled in (Makefile SENSORS=...): both by default, so one image runs on every board revision
 * and on both emulated sensor paths; a single-sensor build is 0.4 KB (LIS2DW12 only) or 1 KB (LIS3DSH only) smaller. */
#if !defined(WITH_LIS3DSH) && !defined(WITH_LIS2DW12)
#error "no sensor driver selected: build with SENSORS=lis3dsh and/or lis2dw12"
#endif

typedef enum { KIND_NONE, KIND_LIS3DSH, KIND_LIS2DW12 } kind_t;

static kind_t kind;
static int16_t queue[QUEUE_LEN][3];
static volatile uint32_t head;       /* written by the ISR */
static volatile uint32_t tail;       /* written by the main loop */
static volatile uint32_t dropped;
static volatile uint8_t bus_failed;
static volatile uint8_t backlog;
static volatile uint8_t discard;     /* drop what the FIFO holds: the tail of a batch before a timeout */     /* the handler left samples in the FIFO: the queue was full */

static const reg_op_t int1_ops[] = {
    REG_FIELD(RCC_AHB1ENR, 4u, 1u, 1u),                       /* GPIOEEN */
    REG_FIELD(RCC_APB2ENR, 14u, 1u, 1u),                      /* SYSCFGEN */
    REG_PIN2(GPIO_MODER(GPIOE_BASE), INT1_PIN, GPIO_MODE_INPUT),
    REG_FIELD(SYSCFG_EXTICR1, 0u, 4u, 4u),                    /* EXTI0 <- port E */
    REG_FIELD(EXTI_FTSR, 0u, 1u, 0u),
    REG_FIELD(EXTI_RTSR, 0u, 1u, 1u),                         /* rising edge */
    REG_WRITE(EXTI_PR, 1u, 0u),
    REG_FIELD(EXTI_IMR, 0u, 1u, 1u),
};

static void arm_int1(void)
{
    (void)REG_INIT(int1_ops);
    nvic_enable(IRQ_EXTI0, EXTI0_PRIORITY);
    if (GPIO_IDR(GPIOE_BASE) & (1u << INT1_PIN)) {
        EXTI_SWIER = 1u;   /* data was ready before the edge detector was armed */
    }
}

int sensor_init(void)
{
    kind = KIND_NONE;
#if defined(WITH_LIS3DSH)
    spi1_init();
    if (lis3dsh_init() == 0) {
        kind = KIND_LIS3DSH;
    }
#endif
#if defined(WITH_LIS2DW12)
    if (kind == KIND_NONE) {
        i2c1_init();
        kind = (lis2dw12_init() == 0) ? KIND_LIS2DW12 : KIND_NONE;
    }
#endif
    if (kind == KIND_NONE) {
        return 0;
    }
    arm_int1();
    return 1;
}

const char *sensor_describe(void)
{
    static const char *const text[] = {"sensor=none bus=-", "sensor=LIS3DSH bus=spi1", "sensor=LIS2DW12 bus=i2c1"};
    return text[kind];
}

static int push(const int16_t xyz[3])
{
    uint32_t h = head;
    if (h - tail >= QUEUE_LEN) {
        return -1;
    }
    int16_t *slot = queue[h & (QUEUE_LEN - 1u)];
    slot[0] = xyz[0];
    slot[1] = xyz[1];
    slot[2] = xyz[2];
    head = h + 1u;
    return 0;
}

static int fifo_level(void)
{
#if defined(WITH_LIS3DSH)
    if (kind == KIND_LIS3DSH) {
        return lis3dsh_fifo_level();
    }
#endif
#if defined(WITH_LIS2DW12)
    if (kind == KIND_LIS2DW12) {
        return lis2dw12_fifo_level();
    }
#endif
    return 0;
}

static void push_sample(const int16_t xyz[3])
{
    if (!discard) {
        (void)push(xyz);
    }
}

/* The n oldest samples from the FIFO into the queue (which has room for them). */
static int read_samples(int n)
{
#if defined(WITH_LIS3DSH)
    if (kind == KIND_LIS3DSH) {
        return lis3dsh_read_fifo((uint32_t)n, push_sample);
    }
#endif
#if defined(WITH_LIS2DW12)
    if (kind == KIND_LIS2DW12) {
        for (int i = 0; i < n; i++) {
            int16_t xyz[3];
            if (lis2dw12_read_xyz(xyz) != 0) {
                return -1;
            }
            push_sample(xyz);
        }
        return 0;
    }
#endif
    (void)n;
    return -1;
}

void EXTI0_IRQHandler(void)
{
    EXTI_PR = 1u;   /* write 1 to clear */
    int level = fifo_level();
    if (level < 0) {
        bus_failed = 1u;
        return;
    }
    if (discard) {
        (void)read_samples(level);   /* push_sample drops them */
        discard = 0u;
        return;
    }
    /* Take what the queue has room for; the rest waits in the FIFO (the main loop triggers us again). */
    uint32_t room = QUEUE_LEN - (head - tail);
    int n = level < (int)room ? level : (int)room;
    if (n > 0) {
        if (read_samples(n) != 0) {
            bus_failed = 1u;
            return;
        }
        systick_restart();   /* data: the sensor is alive */
    }
    backlog = (uint8_t)(n < level);
}

uint32_t sensor_timeout_periods(void)
{
    return 5u + SENSOR_FIFO_WATERMARK;
}

void sensor_tick(void)
{
    if (kind != KIND_NONE && (GPIO_IDR(GPIOE_BASE) & (1u << INT1_PIN))) {
        EXTI_SWIER = 1u;
    }
}

void sensor_discard(void)
{
    if (kind != KIND_NONE) {
        discard = 1u;
        EXTI_SWIER = 1u;
    }
}

void sensor_resume(void)
{
    if (backlog && head == tail) {
        backlog = 0u;
        EXTI_SWIER = 1u;   /* the queue has drained: fetch what stayed in the FIFO */
    }
}

int sensor_pending(void) { return head != tail; }

int sensor_pop(int16_t xyz[3])
{
    uint32_t t = tail;
    if (head == t) {
        return 0;
    }
    const int16_t *slot = queue[t & (QUEUE_LEN - 1u)];
    xyz[0] = slot[0];
    xyz[1] = slot[1];
    xyz[2] = slot[2];
    tail = t + 1u;
    return 1;
}

uint32_t sensor_dropped(void) { return dropped; }
int sensor_bus_failed(void) { return bus_failed; }
