/*
 * A multiboot guest for the QEMU acceptance test: finds edu on PCI bus 0 through the config
 * ports, and drives its BAR0 registers (identification, liveness, factorial), its interrupts
 * (INTx, then MSI) and its DMA engine, printing each answer on the serial port. It ends QEMU
 * through isa-debug-exit (status (code << 1) | 1).
 *
 * Interrupts are observed without taking them: the guest runs with IF=0 (as multiboot enters),
 * so a delivered interrupt stays pending in the controller's request register: INTx in the
 * 8259's IRR (OCW3 read IRR; q35's PIRQ routes edu's INTA# to the line SeaBIOS wrote at 0x3c),
 * MSI in the local APIC's IRR (0xfee00200 + 0x10 * (vector / 32)).
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

/* The 8259 pair's interrupt request register: OCW3 0x0a selects IRR for the next read. */
static int pic_irr(int irq)
{
	uint16_t port = irq < 8 ? 0x20 : 0xa0;
	outb(port, 0x0a);
	return (inb(port) >> (irq & 7)) & 1;
}

#define LAPIC ((volatile uint32_t *)0xfee00000u)

static int lapic_irr(int vector)
{
	return (LAPIC[(0x200 + 0x10 * (vector / 32)) / 4] >> (vector % 32)) & 1;
}

#define LONG 200000000

/* Polls up to `tries` times: QEMU's main loop must read the eventfd and raise the line, which
   on a loaded machine takes a while, so a positive wait is long and returns at once when seen. */
static int wait_for(int (*pending)(int), int which, int tries)
{
	for (int i = 0; i < tries; i++)
		if (pending(which))
			return 1;
	return 0;
}

/* Buffers for edu's DMA engine, in guest RAM below edu's 28-bit DMA mask. */
static uint8_t dma_out[64] __attribute__((aligned(64)));
static uint8_t dma_in[64] __attribute__((aligned(64)));

static void quit(int code)
{
	outl(0xf4, (uint32_t)code);
}

static int find_device(uint32_t id)
{
	for (int d = 0; d < 32; d++)
		if (cfg_read(d, 0) == id)
			return d;
	return -1;
}

static int find_msi_cap(int dev)
{
	int cap = (int)(cfg_read(dev, 0x34) & 0xfc);
	while (cap && (cfg_read(dev, cap) & 0xff) != 0x05)
		cap = (int)((cfg_read(dev, cap) >> 8) & 0xfc);
	return cap;
}

/* MSI to this CPU's local APIC with `vector`, the APIC software-enabled, the function a bus master. */
static void enable_msi(int dev, int cap, uint32_t vector)
{
	LAPIC[0xf0 / 4] = 0x1ff;
	cfg_write(dev, cap + 4, 0xfee00000u);
	cfg_write(dev, cap + 8, 0);
	cfg_write(dev, cap + 12, vector);
	cfg_write(dev, cap, cfg_read(dev, cap) | 1u << 16);
}

/*
 * The doorbell story's client (no edu on the arm64 presets): an X540 PF (8086:1528) raises
 * MSI vector 0 by software, EIMS (0x880) enabling cause 0 and EICS (0x808) setting it
 * (82599/X540 datasheet §8.2.3.5); whether the guest's local APIC sees vector 0x43 is the
 * host's verdict on the MSI write through the SMMU.
 */
static void x540_msi(int dev)
{
	say("x540: device ", (uint32_t)dev);
	uint32_t bar0 = cfg_read(dev, 0x10) & ~0xfu;
	cfg_write(dev, 4, cfg_read(dev, 4) | 0x6); /* memory space, bus master */
	volatile uint32_t *regs = (volatile uint32_t *)(uintptr_t)bar0;
	int cap = find_msi_cap(dev);
	say("x540: msi cap ", (uint32_t)cap);
	enable_msi(dev, cap, 0x43);
	regs[0x880 / 4] = 0x1;
	regs[0x808 / 4] = 0x1;
	say("x540: eicr ", regs[0x800 / 4]);
	say("x540: msi 0x43 pending ", (uint32_t)wait_for(lapic_irr, 0x43, 20000000));
	quit(0);
}

void guest_main(void)
{
	int dev = find_device(0x11e81234);
	int x540 = find_device(0x15288086);
	if (dev < 0 && x540 >= 0) {
		x540_msi(x540);
		return;
	}
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

	/* INTx: raise (0x60), seen pending in the 8259, acknowledged (0x64). */
	int line = (int)(cfg_read(dev, 0x3c) & 0xff);
	say("edu: irq line ", (uint32_t)line);
	regs[0x60 / 4] = 0x1;
	say("edu: intx pending ", (uint32_t)wait_for(pic_irr, line, LONG));
	say("edu: irq status ", regs[0x24 / 4]);
	regs[0x64 / 4] = 0x1;
	say("edu: irq status ", regs[0x24 / 4]);

	/* MSI: the capability from the list, message to this CPU's local APIC, vector 0x41. */
	int cap = find_msi_cap(dev);
	say("edu: msi cap ", (uint32_t)cap);
	enable_msi(dev, cap, 0x41);
	/* An MSI is a memory write by the device: without Bus Master Enable it goes nowhere. */
	regs[0x60 / 4] = 0x2;
	say("edu: msi 0x41 without bus master ", (uint32_t)wait_for(lapic_irr, 0x41, 2000000));
	regs[0x64 / 4] = 0x2;
	cfg_write(dev, 4, cfg_read(dev, 4) | 0x4); /* bus master */
	regs[0x60 / 4] = 0x2;
	say("edu: msi 0x41 pending ", (uint32_t)wait_for(lapic_irr, 0x41, LONG));
	regs[0x64 / 4] = 0x2;

	/* DMA through the IOMMU: guest RAM into edu's buffer, then the buffer back into guest RAM,
	   the second with the DMA interrupt (MSI vector 0x42). */
	cfg_write(dev, cap + 12, 0x42);
	for (int i = 0; i < 64; i++) {
		dma_out[i] = (uint8_t)(0xa0 + i);
		dma_in[i] = 0xaa;
	}
	regs[0x80 / 4] = (uint32_t)(uintptr_t)dma_out;
	regs[0x88 / 4] = 0x40000;
	regs[0x90 / 4] = 64;
	regs[0x98 / 4] = 0x1;
	for (int i = 0; i < 1000000 && (regs[0x98 / 4] & 1); i++)
		;
	regs[0x80 / 4] = 0x40000;
	regs[0x88 / 4] = (uint32_t)(uintptr_t)dma_in;
	regs[0x90 / 4] = 64;
	regs[0x98 / 4] = 0x1 | 0x2 | 0x4;
	for (int i = 0; i < 1000000 && (regs[0x98 / 4] & 1); i++)
		;
	say("edu: dma msi 0x42 pending ", (uint32_t)wait_for(lapic_irr, 0x42, LONG));
	say("edu: irq status ", regs[0x24 / 4]);
	uint32_t same = 0;
	for (int i = 0; i < 64; i++)
		same += dma_in[i] == (uint8_t)(0xa0 + i);
	say("edu: dma bytes equal ", same);
	say("edu: dma_in[0..3] ", *(volatile uint32_t *)dma_in);
	quit(0);
}
