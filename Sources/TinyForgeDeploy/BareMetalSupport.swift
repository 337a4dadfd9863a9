/// Minimal bare-metal support for running a generated library on QEMU's `mps2-an500`
/// (ARM MPS2 with the AN500 FPGA image: a Cortex-M7), written for TinyForge: a vector table
/// and reset handler in C, a linker script for the AN500 memory map, ARM semihosting for
/// output and exit, and a test harness (`main`) that runs embedded samples and prints hex.
///
/// AN500 memory map as QEMU models it (hw/arm/mps2.c): 0x00000000–0x003fffff ZBT SSRAM1
/// (4 MB, where the image and vector table go; QEMU resets the core from address 0),
/// 0x20000000–0x203fffff ZBT SSRAM2&3 (4 MB, data/bss/stack). The real STM32H7 has less of
/// both; the sizes the report gives are what an STM32 build would need.
enum BareMetalSupport {
    /// Stack reserved by the linker script (the harness measures the high-water mark).
    static let stackBytes = 16 * 1024

    static let linkerScript = """
    /* mps2_an500.ld: TinyForge bare-metal image for QEMU -M mps2-an500 (Cortex-M7). */
    MEMORY
    {
      FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 4M   /* ZBT SSRAM1: code, vectors at 0 */
      RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 4M   /* ZBT SSRAM2&3 */
    }
    ENTRY(Reset_Handler)
    STACK_SIZE = \(stackBytes);

    SECTIONS
    {
      .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
      .text : { . = ALIGN(4); *(.text .text.*) *(.glue_7) *(.glue_7t) } > FLASH
      .rodata : { . = ALIGN(4); *(.rodata .rodata.*) . = ALIGN(4); } > FLASH
      .ARM.exidx : { *(.ARM.exidx* .gnu.linkonce.armexidx.*) } > FLASH
      _sidata = LOADADDR(.data);
      .data : { . = ALIGN(4); _sdata = .; *(.data .data.*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
      .bss (NOLOAD) : { . = ALIGN(4); _sbss = .; *(.bss .bss.*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
      .stack (NOLOAD) : { . = ALIGN(8); _sstack = .; . = . + STACK_SIZE; . = ALIGN(8); _estack = .; } > RAM
      end = .;
      _end = .;
    }

    """

    static let startup = #"""
/* startup.c: vector table, reset handler and semihosting for QEMU mps2-an500 (TinyForge). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void tf_fault_handler(void);
void tf_semihost_write0(const char *s);
void tf_semihost_exit(int code);

/* ARM semihosting: operation in r0, argument in r1, trap with BKPT 0xAB (M profile). */
static int tf_semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile ("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void tf_semihost_write0(const char *s) { tf_semihost(0x04, s); } /* SYS_WRITE0 */

/* SYS_EXIT (0x18): on 32-bit ARM r1 is the reason itself. ADP_Stopped_ApplicationExit
 * (0x20026) ends QEMU with status 0, ADP_Stopped_RunTimeErrorUnknown (0x20023) with 1. */
void tf_semihost_exit(int code) {
    tf_semihost(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20023u));
    for (;;) {}
}

void tf_fault_handler(void) {
    tf_semihost_write0("TFFAULT\n");
    tf_semihost_exit(1);
}

typedef void (*tf_vector_t)(void);

/* Initial stack pointer, reset, NMI, HardFault, MemManage, BusFault, UsageFault, 4 reserved,
 * SVCall, DebugMonitor, reserved, PendSV, SysTick. */
__attribute__((section(".isr_vector"), used))
const tf_vector_t tf_vectors[16] = {
    (tf_vector_t)(uintptr_t)&_estack, Reset_Handler,
    tf_fault_handler, tf_fault_handler, tf_fault_handler, tf_fault_handler, tf_fault_handler,
    0, 0, 0, 0, tf_fault_handler, tf_fault_handler, 0, tf_fault_handler, tf_fault_handler,
};

void Reset_Handler(void) {
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    /* Full access to CP10/CP11: the build uses the hard-float ABI, so the compiler may touch
     * FPU registers even in integer code. */
    *cpacr |= 0xFu << 20;
    __asm__ volatile ("dsb\n\tisb" ::: "memory");
    tf_semihost_exit(main());
}

"""#

    /// `main` of the image: paints the stack, runs every embedded sample, prints
    /// `TFOUT <k> <hex>` lines, the stack high-water mark (`TFSTACK <bytes>`) and `TFDONE`.
    static let harness = #"""
/* mcu_main.c: runs the embedded samples through tf_model_invoke and prints the outputs. */
#include <stdint.h>
#include "model.h"
#include "samples.h"

void tf_semihost_write0(const char *s);
extern uint32_t _sstack, _estack;

#define TF_STACK_PAINT 0xA5A5A5A5u

static void tf_print_uint(uint32_t v) {
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v != 0);
    tf_semihost_write0(buf + i);
}

static void tf_print_hex(const int8_t *p, int32_t n) {
    static const char digits[] = "0123456789abcdef";
    char buf[129];
    int32_t i = 0, k = 0;
    for (i = 0; i < n; ++i) {
        const uint8_t b = (uint8_t)p[i];
        buf[k++] = digits[b >> 4];
        buf[k++] = digits[b & 15];
        if (k == 128) { buf[k] = 0; tf_semihost_write0(buf); k = 0; }
    }
    buf[k] = 0;
    if (k) tf_semihost_write0(buf);
}

int main(void) {
    static int8_t output[TF_MODEL_OUTPUT_SIZE];
    volatile uint32_t *w;
    uint32_t sp;
    int32_t k;
    __asm__ volatile ("mov %0, sp" : "=r"(sp));
    for (w = &_sstack; (uint32_t)(uintptr_t)w < sp - 256u; ++w) *w = TF_STACK_PAINT;
    for (k = 0; k < TF_SAMPLE_COUNT; ++k) {
        if (tf_model_invoke(tf_samples + k * TF_MODEL_INPUT_SIZE, output) != 0) {
            tf_semihost_write0("TFERROR invoke\n");
            return 1;
        }
        tf_semihost_write0("TFOUT ");
        tf_print_uint((uint32_t)k);
        tf_semihost_write0(" ");
        tf_print_hex(output, TF_MODEL_OUTPUT_SIZE);
        tf_semihost_write0("\n");
    }
    for (w = &_sstack; w < &_estack && *w == TF_STACK_PAINT; ++w) {}
    tf_semihost_write0("TFSTACK ");
    tf_print_uint((uint32_t)((uintptr_t)&_estack - (uintptr_t)w));
    tf_semihost_write0("\nTFDONE\n");
    return 0;
}

"""#

    /// Host harness: `model_host IN OUT` runs every TF_MODEL_INPUT_SIZE-byte record of IN.
    static let hostHarness = #"""
/* host_main.c: runs each input record of argv[1] and appends the outputs to argv[2]. */
#include <stdio.h>
#include "model.h"

int main(int argc, char **argv) {
    static int8_t input[TF_MODEL_INPUT_SIZE], output[TF_MODEL_OUTPUT_SIZE];
    FILE *in, *out;
    if (argc != 3) { fprintf(stderr, "usage: %s IN OUT\n", argv[0]); return 2; }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (!in || !out) { fprintf(stderr, "cannot open files\n"); return 2; }
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        if (tf_model_invoke(input, output) != 0) return 3;
        if (fwrite(output, 1, sizeof output, out) != sizeof output) return 4;
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 4;
}

"""#

    /// `samples.h` + `samples.c`: the sample inputs, concatenated.
    static func samples(_ inputs: [[Int8]]) -> (header: String, source: String) {
        let header = """
        /* samples.h: sample inputs embedded in the QEMU image (generated). */
        #ifndef TF_SAMPLES_H
        #define TF_SAMPLES_H
        #include <stdint.h>
        #define TF_SAMPLE_COUNT \(inputs.count)
        extern const int8_t tf_samples[];
        #endif

        """
        let all = inputs.flatMap { $0 }
        let source = """
        #include "samples.h"
        const int8_t tf_samples[\(max(all.count, 1))] = \(CSource.initializer(all));

        """
        return (header, source)
    }
}
