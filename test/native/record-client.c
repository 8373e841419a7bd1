/*
 * The record-mode client (issue 9, item 6): a VFIO user that walks the container and the device
 * fd the way QEMU's vfio-pci does, with a few calls the kernel refuses. It is run on a real
 * kernel under `vfio-emu record` (tools/realkernel/record-client.sh, inside the harness's guest)
 * and under `vfio-emu exec`; both traces must replay on the model with no difference.
 *
 * Usage: record-client BDF [BDF…]   (every device's group joins one container)
 * Each step prints one line, "what = result" (say.h). Buffers the kernel may leave alone are
 * 0xaa, so the trace shows which bytes it wrote. Exit status 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "say.h"

#define MAX_DEVS 4
#define CFG(r) ((off_t)(r)->offset)

static void *filled(size_t n)
{
	void *p = malloc(n);
	memset(p, 0xaa, n);
	return p;
}

/* A capability chain (vfio_info_cap_header) inside an info struct of `argsz` bytes at `base`. */
static void show_caps(const char *what, const void *base, uint32_t argsz, uint32_t first)
{
	for (uint32_t off = first, n = 0; off && off + sizeof(struct vfio_info_cap_header) <= argsz && n < 16; n++) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)base + off);
		SAY("%s cap id %u version %u at 0x%x\n", what, h->id, h->version, off);
		if (!strcmp(what, "iommu") && h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)h;
			for (uint32_t i = 0; i < r->nr_iovas && off + sizeof *r + (i + 1) * sizeof r->iova_ranges[0] <= argsz; i++)
				SAY("  iova 0x%" PRIx64 "-0x%" PRIx64 "\n", (uint64_t)r->iova_ranges[i].start, (uint64_t)r->iova_ranges[i].end);
		}
		if (!strcmp(what, "iommu") && h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			SAY("  dma avail %u\n", ((const struct vfio_iommu_type1_info_dma_avail *)h)->avail);
		if (!strcmp(what, "region") && h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			const struct vfio_region_info_cap_sparse_mmap *s = (const void *)h;
			for (uint32_t i = 0; i < s->nr_areas && i < 8; i++)
				SAY("  area 0x%" PRIx64 "+0x%" PRIx64 "\n", (uint64_t)s->areas[i].offset, (uint64_t)s->areas[i].size);
		}
		off = h->next;
	}
}

/* IOMMU_GET_INFO as QEMU asks it: the fixed part first, then again at the argsz the kernel wants. */
static void iommu_info(int container)
{
	struct vfio_iommu_type1_info *info = filled(sizeof *info);
	info->argsz = sizeof *info;
	CHECK("IOMMU_GET_INFO", ioctl(container, VFIO_IOMMU_GET_INFO, info));
	uint32_t want = info->argsz;
	SAY("iommu flags 0x%x pgsizes 0x%" PRIx64 " argsz %u\n", info->flags, (uint64_t)info->iova_pgsizes, want);
	free(info);
	if (want <= sizeof *info)
		return;
	info = filled(want);
	info->argsz = want;
	CHECK("IOMMU_GET_INFO caps", ioctl(container, VFIO_IOMMU_GET_INFO, info));
	SAY("cap_offset 0x%x\n", info->cap_offset);
	if (info->flags & VFIO_IOMMU_INFO_CAPS)
		show_caps("iommu", info, want, info->cap_offset);
	free(info);
}

static int dma_map(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map *m = filled(sizeof *m);
	*m = (struct vfio_iommu_type1_dma_map){
		.argsz = sizeof *m,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};
	int r = ioctl(container, VFIO_IOMMU_MAP_DMA, m);
	free(m);
	return r;
}

static int dma_unmap(int container, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap *u = filled(sizeof *u);
	*u = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof *u, .iova = iova, .size = size };
	int r = ioctl(container, VFIO_IOMMU_UNMAP_DMA, u);
	*unmapped = u->size;
	free(u);
	return r;
}

/* REGION_INFO as QEMU's vfio_get_region_info asks it: 32 bytes, then the argsz the caps need. */
static struct vfio_region_info *region_info(int device, uint32_t index)
{
	struct vfio_region_info *r = filled(sizeof *r);
	r->argsz = sizeof *r;
	r->index = index;
	char what[64];
	snprintf(what, sizeof what, "REGION_INFO %u", index);
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, r) < 0) {
		CHECK(what, -1);
		free(r);
		return NULL;
	}
	if (r->argsz > sizeof *r) {
		uint32_t want = r->argsz;
		free(r);
		r = filled(want);
		r->argsz = want;
		r->index = index;
		CHECK("REGION_INFO caps", ioctl(device, VFIO_DEVICE_GET_REGION_INFO, r));
	}
	SAY("region %u size 0x%" PRIx64 " offset 0x%" PRIx64 " flags 0x%x argsz %u\n", index, (uint64_t)r->size, (uint64_t)r->offset, r->flags,
	    r->argsz);
	if (r->flags & VFIO_REGION_INFO_FLAG_CAPS)
		show_caps("region", r, r->argsz, r->cap_offset);
	return r;
}

static long cfg_read(int device, struct vfio_region_info *cfg, uint32_t reg, void *v, size_t n)
{
	memset(v, 0xaa, n);
	return pread(device, v, n, CFG(cfg) + reg);
}

/* One SET_IRQS of `count` eventfds (fd -1: none) or, with efds NULL, of DATA_NONE. */
static int set_irqs(int device, uint32_t index, uint32_t action, uint32_t start, uint32_t count, const int32_t *efds)
{
	size_t n = sizeof(struct vfio_irq_set) + (efds ? count * sizeof(int32_t) : 0);
	struct vfio_irq_set *s = filled(n);
	s->argsz = (uint32_t)n;
	s->flags = action | (efds ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->start = start;
	s->count = count;
	if (efds)
		memcpy(s->data, efds, count * sizeof(int32_t));
	int r = ioctl(device, VFIO_DEVICE_SET_IRQS, s);
	free(s);
	return r;
}

static void read_eventfd(const char *what, int efd)
{
	uint64_t count = 0;
	long r = read(efd, &count, sizeof count);
	if (r < 0)
		SAY("%s = -1 %s\n", what, strerror(errno));
	else
		SAY("%s = %ld count %" PRIu64 "\n", what, r, count);
}

/* An interrupt index: an eventfd on vector 0, a loopback trigger, the count, then disabled. */
static void irq_loop(int device, uint32_t index, const char *name)
{
	char what[96];
	int32_t efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	snprintf(what, sizeof what, "SET_IRQS %s eventfd", name);
	CHECK(what, set_irqs(device, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd));
	snprintf(what, sizeof what, "SET_IRQS %s loopback", name);
	CHECK(what, set_irqs(device, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
	snprintf(what, sizeof what, "read %s eventfd", name);
	read_eventfd(what, efd);
	if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		CHECK("SET_IRQS INTx mask", set_irqs(device, index, VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL));
		CHECK("SET_IRQS INTx loopback while masked", set_irqs(device, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
		read_eventfd("read INTx eventfd while masked", efd);
		CHECK("SET_IRQS INTx unmask", set_irqs(device, index, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL));
	}
	snprintf(what, sizeof what, "SET_IRQS %s disable", name);
	CHECK(what, set_irqs(device, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL));
	close(efd);
}

static void device_walk(int group, const char *bdf)
{
	char what[96];
	int device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	CHECK("GET_DEVICE_FD", device >= 0 ? 0 : -1);
	if (device < 0)
		return;
	struct vfio_device_info *info = filled(sizeof *info);
	info->argsz = sizeof *info;
	CHECK("DEVICE_GET_INFO", ioctl(device, VFIO_DEVICE_GET_INFO, info));
	uint32_t regions = info->num_regions, irqs = info->num_irqs;
	SAY("device flags 0x%x regions %u irqs %u\n", info->flags, regions, irqs);
	free(info);

	struct vfio_region_info *r[VFIO_PCI_NUM_REGIONS] = { 0 };
	for (uint32_t i = 0; i < regions && i < VFIO_PCI_NUM_REGIONS; i++)
		r[i] = region_info(device, i);
	free(region_info(device, regions)); /* one past the last: EINVAL */
	struct vfio_region_info *cfg = r[VFIO_PCI_CONFIG_REGION_INDEX], *bar0 = r[VFIO_PCI_BAR0_REGION_INDEX];

	/* Config space: the header, a write to the command register read back and put back, the end. */
	uint8_t header[64];
	CHECK("pread config header", cfg_read(device, cfg, 0, header, sizeof header));
	uint16_t vendor, id, cmd, now;
	memcpy(&vendor, header + PCI_VENDOR_ID, 2);
	memcpy(&id, header + PCI_DEVICE_ID, 2);
	memcpy(&cmd, header + PCI_COMMAND, 2);
	SAY("config %04x:%04x command 0x%04x\n", vendor, id, cmd);
	uint16_t on = cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	CHECK("pwrite command memory|master", pwrite(device, &on, 2, CFG(cfg) + PCI_COMMAND));
	CHECK("pread command", cfg_read(device, cfg, PCI_COMMAND, &now, 2));
	SAY("command now 0x%04x\n", now);
	uint32_t bar = 0xffffffff, sized;
	CHECK("pwrite BAR0 sizing", pwrite(device, &bar, 4, CFG(cfg) + PCI_BASE_ADDRESS_0));
	CHECK("pread BAR0", cfg_read(device, cfg, PCI_BASE_ADDRESS_0, &sized, 4));
	SAY("BAR0 sized 0x%08x\n", sized);
	memcpy(&bar, header + PCI_BASE_ADDRESS_0, 4);
	CHECK("pwrite BAR0 back", pwrite(device, &bar, 4, CFG(cfg) + PCI_BASE_ADDRESS_0));
	uint32_t beyond;
	CHECK("pread config beyond its end", cfg_read(device, cfg, (uint32_t)cfg->size, &beyond, 4));

	/* BAR0 through pread/pwrite; edu's liveness register answers the inverse (QEMU edu.c). */
	uint32_t v;
	CHECK("pread BAR0 0x0", pread(device, &v, 4, (off_t)bar0->offset));
	SAY("BAR0[0x0] 0x%08x\n", v);
	if (vendor == 0x1234 && id == 0x11e8) {
		uint32_t live = 0x12345678;
		CHECK("pwrite edu liveness", pwrite(device, &live, 4, (off_t)bar0->offset + 4));
		CHECK("pread edu liveness", pread(device, &v, 4, (off_t)bar0->offset + 4));
		SAY("edu liveness 0x%08x\n", v);
	} else {
		CHECK("pread BAR0 0x8", pread(device, &v, 4, (off_t)bar0->offset + 8));
		SAY("BAR0[0x8] 0x%08x\n", v);
	}
	CHECK("pread BAR0 beyond its end", pread(device, &v, 4, (off_t)(bar0->offset + bar0->size)));
	/* An mmap of BAR0 where the region allows it (recorded; the load through it is not). */
	void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)bar0->offset);
	CHECK("mmap BAR0", map == MAP_FAILED ? -1 : 0);
	if (map != MAP_FAILED) {
		SAY("BAR0[0x0] through the mapping 0x%08x\n", *(volatile uint32_t *)map);
		CHECK("munmap BAR0", munmap(map, 4096));
	}

	/* Interrupts: every index's info, then INTx, MSI and (if it has vectors) MSI-X. */
	uint32_t counts[VFIO_PCI_NUM_IRQS] = { 0 };
	for (uint32_t i = 0; i <= irqs && i <= VFIO_PCI_NUM_IRQS; i++) {
		struct vfio_irq_info *q = filled(sizeof *q);
		q->argsz = sizeof *q;
		q->index = i;
		snprintf(what, sizeof what, "GET_IRQ_INFO %u", i);
		CHECK(what, ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, q));
		if (i < irqs && i < VFIO_PCI_NUM_IRQS) {
			counts[i] = q->count;
			SAY("irq %u flags 0x%x count %u\n", i, q->flags, q->count);
		}
		free(q);
	}
	irq_loop(device, VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	if (counts[VFIO_PCI_MSI_IRQ_INDEX])
		irq_loop(device, VFIO_PCI_MSI_IRQ_INDEX, "MSI");
	if (counts[VFIO_PCI_MSIX_IRQ_INDEX])
		irq_loop(device, VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X");
	else
		CHECK("SET_IRQS MSI-X (none)", set_irqs(device, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
	int32_t none = -1;
	CHECK("SET_IRQS MSI start 1 (beyond)", set_irqs(device, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, counts[1], 1, &none));

	/* The command register as the client found it. */
	CHECK("pwrite command back", pwrite(device, &cmd, 2, CFG(cfg) + PCI_COMMAND));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
		free(r[i]);
	CHECK("close device", close(device));
}

int main(int argc, char **argv)
{
	const char *bdfs[MAX_DEVS];
	int n = 0;
	for (int i = 1; i < argc && n < MAX_DEVS; i++)
		bdfs[n++] = argv[i];
	if (!n)
		bdfs[n++] = "0000:00:01.0";

	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	CHECK("open container", container >= 0 ? 0 : -1);
	CHECK("GET_API_VERSION", ioctl(container, VFIO_GET_API_VERSION));
	CHECK("CHECK_EXTENSION TYPE1", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	CHECK("CHECK_EXTENSION TYPE1v2", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	CHECK("CHECK_EXTENSION SPAPR_TCE", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	CHECK("CHECK_EXTENSION NOIOMMU", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
	CHECK("SET_IOMMU before a group", ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));

	int groups[MAX_DEVS];
	for (int i = 0; i < n; i++) {
		char path[256], link[256];
		snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdfs[i]);
		ssize_t k = readlink(path, link, sizeof link - 1);
		link[k > 0 ? k : 0] = 0;
		int id = atoi(basename(link));
		SAY("%s iommu_group %d\n", bdfs[i], id);
		snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%d/reserved_regions", id);
		FILE *f = fopen(path, "r");
		for (char line[128]; f && fgets(line, sizeof line, f);)
			SAY("reserved %s", line);
		if (f)
			fclose(f);
		snprintf(path, sizeof path, "/dev/vfio/%d", id);
		groups[i] = open(path, O_RDWR | O_CLOEXEC);
		CHECK("open group", groups[i] >= 0 ? 0 : -1);
		struct vfio_group_status *st = filled(sizeof *st);
		st->argsz = sizeof *st;
		CHECK("GROUP_GET_STATUS", ioctl(groups[i], VFIO_GROUP_GET_STATUS, st));
		SAY("group flags 0x%x\n", st->flags);
		CHECK("GET_DEVICE_FD before SET_CONTAINER", ioctl(groups[i], VFIO_GROUP_GET_DEVICE_FD, bdfs[i]));
		CHECK("SET_CONTAINER", ioctl(groups[i], VFIO_GROUP_SET_CONTAINER, &container));
		if (i == 0) {
			CHECK("CHECK_EXTENSION TYPE1v2 with a group", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
			CHECK("SET_IOMMU", ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
			CHECK("SET_IOMMU again", ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
		}
		st->argsz = sizeof *st;
		CHECK("GROUP_GET_STATUS in the container", ioctl(groups[i], VFIO_GROUP_GET_STATUS, st));
		SAY("group flags 0x%x\n", st->flags);
		free(st);
	}
	iommu_info(container);

	/* DMA: a mapping, its overlap, an unaligned one, one in the MSI window, a split, the unmap. */
	size_t size = 1 << 20;
	void *buf = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0xaa, 2 * size);
	uint64_t unmapped = 0;
	CHECK("MAP_DMA", dma_map(container, buf, 0x100000, size));
	CHECK("MAP_DMA again (overlap)", dma_map(container, buf, 0x100000, size));
	CHECK("MAP_DMA unaligned size", dma_map(container, buf, 0x400000, 0x800));
	CHECK("MAP_DMA in the MSI window", dma_map(container, buf, 0xfee00000, size));
	CHECK("MAP_DMA second", dma_map(container, (char *)buf + size, 0x200000, size));
	iommu_info(container);
	CHECK("UNMAP_DMA part of a mapping", dma_unmap(container, 0x100000, 0x1000, &unmapped));
	SAY("unmapped 0x%" PRIx64 "\n", unmapped);

	for (int i = 0; i < n; i++)
		if (groups[i] >= 0) {
			CHECK("GET_DEVICE_FD of no device", ioctl(groups[i], VFIO_GROUP_GET_DEVICE_FD, "0000:00:1f.7"));
			device_walk(groups[i], bdfs[i]);
		}

	CHECK("UNMAP_DMA", dma_unmap(container, 0x100000, 2 * size, &unmapped));
	SAY("unmapped 0x%" PRIx64 "\n", unmapped);
	CHECK("UNMAP_DMA nothing", dma_unmap(container, 0x100000, size, &unmapped));
	SAY("unmapped 0x%" PRIx64 "\n", unmapped);
	for (int i = 0; i < n; i++) {
		CHECK("GROUP_UNSET_CONTAINER", ioctl(groups[i], VFIO_GROUP_UNSET_CONTAINER));
		CHECK("close group", close(groups[i]));
	}
	CHECK("close container", close(container));
	return 0;
}
