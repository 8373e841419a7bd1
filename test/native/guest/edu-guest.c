/*
 * A multiboot guest for the QEMU acceptance test: finds edu on PCI bus 0 through the config
 * ports, and drives its BAR0 registers (identification, liveness, factorial), printing each
 * answer on the serial port. It ends QEMU through isa-debug-exit (status (code << 1) | 1).
 * Build: cc -m32 -ffreestanding -nostdlib -static -no-pie -fno-pic -Wl,-Ttext=0x100000
 */
#include <stdint.h>

__asm__(".text\n"
	".align 4\n"
	"multiboot_header:\n"
	".long 0x1BADB002\n" /* magic */
	".long 0\n" /* flags */
	".long -0x1BADB002\n" /* checksum */
	".globl _start\n"
	"_start:\n"
	"mov $guest_stack + 8192, %esp\n"
	"call guest_main\n"
	"1: hlt\n"
	"jmp 1b\n");

uint8_t guest_stack[8192] __attribute__((aligned(16), used));

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_serial(char c)
{
	while (!(inb(0x3f8 + 5) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_hex(uint32_t v)
{
	puts_serial("0x");
	for (int i = 28; i >= 0; i -= 4)
		putc_serial("0123456789abcdef"[(v >> i) & 15]);
}

static void say(const char *what, uint32_t v)
{
	puts_serial(what);
	put_hex(v);
	putc_serial('\n');
}

static uint32_t cfg_read(int dev, int off)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)(off & 0xfc));
	return inl(0xcfc);
}

static void cfg_write(int dev, int off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)(off & 0xfc));
	outl(0xcfc, v);
}

static void quit(int code)
{
	outl(0xf4, (uint32_t)code);
}

void guest_main(void)
{
	int dev = -1;
	for (int d = 0; d < 32 && dev < 0; d++)
		if (cfg_read(d, 0) == 0x11e81234)
			dev = d;
	if (dev < 0) {
		puts_serial("edu: not found\n");
		quit(2);
		return;
	}
	say("edu: device ", (uint32_t)dev);
	say("edu: class ", cfg_read(dev, 8) >> 8);
	uint32_t bar0 = cfg_read(dev, 0x10) & ~0xfu;
	cfg_write(dev, 4, cfg_read(dev, 4) | 0x2); /* memory space enable */
	volatile uint32_t *regs = (volatile uint32_t *)(uintptr_t)bar0;
	say("edu: ident ", regs[0]);
	regs[1] = 0x12345678;
	say("edu: liveness ", regs[1]);
	regs[2] = 5;
	for (int i = 0; i < 1000000 && (regs[8] & 1); i++)
		;
	say("edu: factorial(5) ", regs[2]);
	quit(0);
}
