/* What the preload library and the recorder share: how VFIO requests pass their argument. */
#ifndef VFIO_ABI_H
#define VFIO_ABI_H
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum fd_kind { FD_NONE = 0, FD_CONTAINER, FD_GROUP, FD_DEVICE };

/* How each request passes its argument, and the bytes the kernel copies at least (minsz). */
enum arg_kind { ARG_VALUE, ARG_NONE, ARG_STRUCT, ARG_INTPTR, ARG_STRING };

static inline enum arg_kind arg_kind(int kind, unsigned n, size_t *minsz)
{
	*minsz = 0;
	switch (kind) {
	case FD_CONTAINER:
		switch (n) {
		case 12: *minsz = 16; return ARG_STRUCT; /* IOMMU_GET_INFO / SPAPR_TCE_GET_INFO */
		case 13: *minsz = 32; return ARG_STRUCT; /* MAP_DMA */
		case 14: *minsz = 24; return ARG_STRUCT; /* UNMAP_DMA */
		case 17: *minsz = 12; return ARG_STRUCT; /* DIRTY_PAGES / SPAPR_REGISTER_MEMORY */
		case 18: *minsz = 24; return ARG_STRUCT; /* SPAPR_UNREGISTER_MEMORY */
		case 19: *minsz = 40; return ARG_STRUCT; /* SPAPR_TCE_CREATE */
		case 20: *minsz = 16; return ARG_STRUCT; /* SPAPR_TCE_REMOVE */
		case 0: /* GET_API_VERSION */
		case 15: /* SPAPR IOMMU_ENABLE */
		case 16: /* SPAPR IOMMU_DISABLE */
			return ARG_NONE;
		}
		return ARG_VALUE;
	case FD_GROUP:
		switch (n) {
		case 3: *minsz = 8; return ARG_STRUCT; /* GROUP_GET_STATUS */
		case 4: *minsz = 4; return ARG_INTPTR; /* GROUP_SET_CONTAINER */
		case 6: return ARG_STRING; /* GROUP_GET_DEVICE_FD */
		case 5: return ARG_NONE; /* GROUP_UNSET_CONTAINER */
		}
		return ARG_VALUE;
	case FD_DEVICE:
		switch (n) {
		case 7: *minsz = 16; return ARG_STRUCT; /* DEVICE_GET_INFO */
		case 8: *minsz = 32; return ARG_STRUCT; /* GET_REGION_INFO */
		case 9: *minsz = 16; return ARG_STRUCT; /* GET_IRQ_INFO */
		case 10: *minsz = 20; return ARG_STRUCT; /* SET_IRQS */
		case 12: *minsz = 12; return ARG_STRUCT; /* GET_PCI_HOT_RESET_INFO */
		case 13: *minsz = 12; return ARG_STRUCT; /* PCI_HOT_RESET */
		case 16: *minsz = 32; return ARG_STRUCT; /* DEVICE_IOEVENTFD */
		case 17: *minsz = 8; return ARG_STRUCT; /* DEVICE_FEATURE */
		case 11: return ARG_NONE; /* DEVICE_RESET */
		}
		return ARG_VALUE;
	}
	return ARG_VALUE;
}


/* Copies from the client's own memory without faulting: bytes copied (short at a fault). */
static inline size_t safe_read(void *dst, uintptr_t src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)src, len };
	ssize_t n = syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0);
	return n < 0 ? 0 : (size_t)n;
}

static inline void safe_write(uintptr_t dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)dst, len };
	syscall(SYS_process_vm_writev, getpid(), &l, 1, &r, 1, 0);
}

#endif
