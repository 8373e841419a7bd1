/*
 * A small userspace driver, written as DPDK/SPDK PMDs and the kernel's VFIO selftests are: it
 * takes a PCI function through VFIO's type1 container, maps a DMA buffer, enables MSI with an
 * eventfd, makes the device raise vector 0 itself and waits for the interrupt. Each step is one
 * line on stdout, so a test can assert what the kernel answered.
 *
 * Usage: msi-client BDF [series]
 *
 * "series" says the program was built against the uapi of the posted MSI-passthrough series
 * ("KVM PCIe/MSI passthrough on ARM/ARM64", v10, 2016-06), which was never merged: there type1
 * GET_INFO capability 1 is VFIO_IOMMU_TYPE1_INFO_CAP_MSI_GEOMETRY and MAP_DMA bit 2 is
 * VFIO_DMA_MAP_FLAG_RESERVED_MSI_IOVA ("[PATCH v10] vfio: allow reserved msi iova
 * registration", "vfio/type1: return MSI geometry through VFIO_IOMMU_GET_INFO capability
 * chains"). Upstream gave both numbers to other things (IOVA_RANGE, VADDR), so a program knows
 * which uapi it was built for, as this one is told. Without it the client speaks upstream's uapi
 * and lists the IOVA ranges.
 *
 * The device raises vector 0 by software: an Intel X540/82599 PF (8086:1528, 8086:10fb)
 * through EIMS (0x880) enabling cause 0 and EICS (0x808) setting it (82599 datasheet
 * §8.2.3.5); QEMU's edu (1234:11e8) through its raise register (0x60). BAR0 is written with
 * pwrite on the device fd (vfio-pci's region offsets), as QEMU's vfio-pci does.
 *
 * Exit status: 0 when the interrupt arrived, 1 when the wait timed out, 2 when a step failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "say.h"

/* The series v10 uapi (include/uapi/linux/vfio.h as the series patched it). */
#define SERIES_INFO_CAP_MSI_GEOMETRY 1
#define SERIES_MSI_GEOMETRY_RESERVED (1u << 0) /* a fixed window (x86): the aperture is valid */
#define SERIES_DMA_MAP_FLAG_RESERVED_MSI_IOVA (1u << 2)
struct series_cap_msi_geometry {
	struct vfio_info_cap_header header;
	uint32_t flags;
	uint32_t order; /* log2 of the IOVA page the window is counted in */
	uint64_t size; /* bytes of IOVA the user must register */
	uint64_t aperture_start;
	uint64_t aperture_end;
};

/* Where this driver puts its DMA buffer and, when the kernel asks for one, its MSI window. */
#define DMA_IOVA 0x100000ull
#define DMA_SIZE (1ull << 20)
#define MSI_IOVA 0x8000000ull

#define WAIT_MS 200

static int sysfs_id(const char *bdf, const char *name)
{
	char path[256], line[32] = "";
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", bdf, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	return (int)strtol(line, NULL, 16);
}

static void fail(const char *what)
{
	SAY("%s = -1 %s\n", what, strerror(errno));
	exit(2);
}

/* GET_INFO with a buffer as large as the kernel asks for, then a walk of its capabilities. */
static uint64_t msi_window_size(int container, int series)
{
	struct vfio_iommu_type1_info *info = calloc(1, sizeof *info);
	info->argsz = sizeof *info;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
		fail("IOMMU_GET_INFO");
	if (info->argsz > sizeof *info) {
		uint32_t argsz = info->argsz;
		info = realloc(info, argsz);
		memset(info, 0, argsz);
		info->argsz = argsz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
			fail("IOMMU_GET_INFO");
	}
	SAY("IOMMU_GET_INFO argsz %u flags 0x%x iova_pgsizes 0x%" PRIx64 "\n", info->argsz, info->flags, (uint64_t)info->iova_pgsizes);
	uint64_t window = 0;
	int caps = 0;
	uint32_t off = info->flags & VFIO_IOMMU_INFO_CAPS ? info->cap_offset : 0;
	while (off) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);
		caps++;
		if (series && h->id == SERIES_INFO_CAP_MSI_GEOMETRY) {
			struct series_cap_msi_geometry *g = (void *)h;
			if (g->flags & SERIES_MSI_GEOMETRY_RESERVED) {
				SAY("MSI geometry: fixed window 0x%" PRIx64 "-0x%" PRIx64 "\n", (uint64_t)g->aperture_start, (uint64_t)g->aperture_end);
			} else {
				SAY("MSI geometry: order %u size 0x%" PRIx64 "\n", g->order, (uint64_t)g->size);
				window = g->size;
			}
		} else if (!series && h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;
			SAY("IOVA ranges:");
			for (uint32_t i = 0; i < r->nr_iovas; i++)
				SAY(" 0x%" PRIx64 "-0x%" PRIx64, (uint64_t)r->iova_ranges[i].start, (uint64_t)r->iova_ranges[i].end);
			SAY("\n");
		}
		off = h->next;
	}
	if (!caps)
		SAY("no capabilities\n");
	free(info);
	return window;
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:01:00.0";
	int series = argc > 2 && !strcmp(argv[2], "series");
	char path[256], link[256];

	int vendor = sysfs_id(bdf, "vendor"), devid = sysfs_id(bdf, "device");
	SAY("device %04x:%04x\n", vendor, devid);
	int x540 = vendor == 0x8086 && (devid == 0x1528 || devid == 0x10fb);
	int edu = vendor == 0x1234 && devid == 0x11e8;
	if (!x540 && !edu) {
		SAY("no way to make %s raise an interrupt\n", bdf);
		return 2;
	}

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		fail("readlink iommu_group");
	link[n] = 0;
	snprintf(path, sizeof path, "/dev/vfio/%s", basename(link));

	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		fail("open /dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION || !ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		SAY("no type1v2\n");
		return 2;
	}
	int group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		fail("open group");
	struct vfio_group_status status = { .argsz = sizeof status };
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		fail("GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		SAY("group %s not viable\n", path);
		return 2;
	}
	CHECK("SET_CONTAINER", ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	int r = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	CHECK("SET_IOMMU", r);
	if (r)
		return 2;

	uint64_t window = msi_window_size(container, series);

	void *buf = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0xaa, DMA_SIZE);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof map,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = DMA_IOVA,
		.size = DMA_SIZE,
	};
	CHECK("MAP_DMA buffer", ioctl(container, VFIO_IOMMU_MAP_DMA, &map));

	/* The series maps MSI doorbells only inside a window the user gives it (vaddr ignored). */
	if (window) {
		struct vfio_iommu_type1_dma_map msi = {
			.argsz = sizeof msi,
			.flags = SERIES_DMA_MAP_FLAG_RESERVED_MSI_IOVA,
			.iova = MSI_IOVA,
			.size = window,
		};
		SAY("MSI window 0x%" PRIx64 "-0x%" PRIx64 "\n", (uint64_t)MSI_IOVA, (uint64_t)(MSI_IOVA + window - 1));
		CHECK("MAP_DMA RESERVED_MSI_IOVA", ioctl(container, VFIO_IOMMU_MAP_DMA, &msi));
	}

	int device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (device < 0)
		fail("GET_DEVICE_FD");
	struct vfio_region_info cfg = { .argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar0 = { .argsz = sizeof bar0, .index = VFIO_PCI_BAR0_REGION_INDEX };
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cfg) || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar0))
		fail("GET_REGION_INFO");
	struct vfio_irq_info irq = { .argsz = sizeof irq, .index = VFIO_PCI_MSI_IRQ_INDEX };
	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq))
		fail("GET_IRQ_INFO");
	SAY("MSI vectors %u flags 0x%x\n", irq.count, irq.flags);

	/* Memory space and bus mastering: an MSI is a memory write by the device (pci_set_master). */
	uint16_t cmd;
	if (pread(device, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		fail("pread command");
	cmd |= 0x6;
	if (pwrite(device, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		fail("pwrite command");

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	char sbuf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)sbuf;
	*set = (struct vfio_irq_set){
		.argsz = sizeof sbuf,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof efd);
	r = ioctl(device, VFIO_DEVICE_SET_IRQS, set);
	CHECK("SET_IRQS MSI eventfd", r);
	if (r)
		return 2;

	/* Vector 0, raised by the device itself. */
	uint32_t one = 1, v = 0;
	off_t regs = (off_t)bar0.offset;
	if (x540) {
		if (pwrite(device, &one, 4, regs + 0x880) != 4 || pwrite(device, &one, 4, regs + 0x808) != 4)
			fail("pwrite EIMS/EICS");
		if (pread(device, &v, 4, regs + 0x800) != 4)
			fail("pread EICR");
		SAY("EICR 0x%08x\n", v);
	} else {
		if (pwrite(device, &one, 4, regs + 0x60) != 4)
			fail("pwrite raise");
		if (pread(device, &v, 4, regs + 0x24) != 4)
			fail("pread status");
		SAY("irq status 0x%08x\n", v);
	}

	struct pollfd p = { .fd = efd, .events = POLLIN };
	int ready = poll(&p, 1, WAIT_MS);
	int code = 0;
	if (ready == 1) {
		uint64_t count = 0;
		CHECK("read eventfd", read(efd, &count, sizeof count));
		SAY("MSI vector 0: eventfd count %" PRIu64 "\n", count);
	} else {
		SAY("MSI vector 0: timeout after %d ms\n", WAIT_MS);
		code = 1;
	}

	*set = (struct vfio_irq_set){
		.argsz = sizeof *set,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};
	CHECK("SET_IRQS MSI off", ioctl(device, VFIO_DEVICE_SET_IRQS, set));
	close(efd);
	close(device);
	close(group);
	close(container);
	return code;
}
