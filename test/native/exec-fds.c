/*
 * fd passing across execve, as libvirt hands VFIO to QEMU: the launcher opens /dev/iommu and a
 * device cdev, clears FD_CLOEXEC on them and execs the VMM with their numbers
 * (`-object iommufd,fd=N -device vfio-pci,fd=M`). Here the VMM is this program again.
 *
 *   exec-fds launch CDEV   opens /dev/iommu and CDEV (FD_CLOEXEC cleared), and CDEV again with
 *                          O_CLOEXEC, bound to the iommufd; sets the kept cdev fd's file position
 *                          at the config region; execs `exec-fds run IOMMUFD DEV GONE`
 *   exec-fds fork CDEV     the same, but forks and execs in the child; the parent, after the
 *                          child's exit, closes its O_CLOEXEC fd and binds the kept one
 *   exec-fds run I D G     the second image: G must be gone; binds D to I, attaches it to a new
 *                          IOAS, reads GET_INFO and 4 bytes at the inherited file position
 *   exec-fds group N BDF   the legacy path: the container kept, group N opened with O_CLOEXEC and
 *                          set to it (TYPE1v2), the device fd (O_CLOEXEC, as the kernel gives
 *                          it); execs `exec-fds rungroup CONTAINER GROUP DEVICE N BDF`
 *   exec-fds irq N BDF     container, group N and its device fd kept, an eventfd set as the
 *                          device's INTx trigger; execs `exec-fds runirq DEVICE EVENTFD`, which
 *                          loops INTx back and reads the inherited eventfd
 *   exec-fds own           an emulated fd closed behind the library's back (a raw close) and a
 *                          memfd of the program's own at its number; execs `exec-fds runown FD`
 *   exec-fds pass CDEV PROGRAM ARGS…
 *                          opens /dev/iommu and CDEV (FD_CLOEXEC cleared) and execs PROGRAM with
 *                          @IOMMUFD@ and @DEV@ in ARGS replaced by their numbers (QEMU's fd=)
 *
 * One line per step, as say.h prints them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

/* include/uapi/linux/iommufd.h and vfio.h (6.6+): the header here may predate them. */
#define VFIO_NR(n) _IO(';', 100 + (n))
#define IOMMU_NR(n) _IO(';', 0x80 + (n))
#define DEVICE_BIND_IOMMUFD VFIO_NR(18)
#define DEVICE_ATTACH_IOMMUFD_PT VFIO_NR(19)
#define IOAS_ALLOC IOMMU_NR(1)
/* vfio_pci_core: the config region's offset in the device fd (VFIO_PCI_CONFIG_REGION_INDEX 7 << 40). */
#define CONFIG_OFFSET (7ull << 40)

struct bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
struct attach_pt {
	uint32_t argsz, flags, pt_id;
};
struct ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};
struct device_info {
	uint32_t argsz, flags, num_regions, num_irqs, cap_offset, pad;
};

static int open_kept(const char *what, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	check(what, fd < 0 ? -1 : 0);
	/* libvirt's virCommandPassFD: the fd is made inheritable before the exec. */
	check("clear FD_CLOEXEC", fcntl(fd, F_SETFD, 0));
	return fd;
}

static uint32_t bind(int dev, int iommufd, const char *what)
{
	struct bind_iommufd b;
	memset(&b, 0xaa, sizeof b);
	b.argsz = sizeof b;
	b.flags = 0;
	b.iommufd = iommufd;
	check(what, ioctl(dev, DEVICE_BIND_IOMMUFD, &b));
	return b.out_devid;
}

static void exec_self(const char *self, char **args)
{
	execv(self, args);
	check("execv", -1);
	_exit(127);
}

static int launch(const char *self, const char *cdev, int forked)
{
	int iommufd = open_kept("open /dev/iommu", "/dev/iommu");
	int dev = open_kept("open cdev", cdev);
	int gone = open(cdev, O_RDWR | O_CLOEXEC);
	check("open cdev O_CLOEXEC", gone < 0 ? -1 : 0);
	SAY("devid 0x%x\n", bind(gone, iommufd, "BIND_IOMMUFD the O_CLOEXEC fd"));
	check("lseek kept cdev to config", lseek(dev, (off_t)CONFIG_OFFSET, SEEK_SET) == (off_t)CONFIG_OFFSET ? 0 : -1);
	char a[16], b[16], c[16];
	snprintf(a, sizeof a, "%d", iommufd);
	snprintf(b, sizeof b, "%d", dev);
	snprintf(c, sizeof c, "%d", gone);
	char *argv[] = { (char *)self, "run", a, b, c, NULL };
	pid_t child = forked ? fork() : 0;
	if (child == 0)
		exec_self(self, argv);
	int status = 0;
	check("waitpid", waitpid(child, &status, 0) == child ? 0 : -1);
	SAY("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	/* The child's exec closed its copy only: the device stays bound here until this close. */
	check("close O_CLOEXEC fd", close(gone));
	SAY("devid 0x%x\n", bind(dev, iommufd, "BIND_IOMMUFD the kept fd"));
	check("close cdev", close(dev));
	check("close iommufd", close(iommufd));
	return 0;
}

static int run(int iommufd, int dev, int gone)
{
	/* do_close_on_exec(): the O_CLOEXEC fd is not there; the others are, with their state. */
	check("fcntl O_CLOEXEC fd", fcntl(gone, F_GETFD));
	check("fcntl kept cdev", fcntl(dev, F_GETFD));
	struct stat st;
	check("fstat kept cdev", fstat(dev, &st));
	SAY("cdev %s %u:%u\n", S_ISCHR(st.st_mode) ? "chr" : "not chr", major(st.st_rdev), minor(st.st_rdev));
	struct ioas_alloc ia;
	memset(&ia, 0xaa, sizeof ia);
	ia.size = sizeof ia;
	ia.flags = 0;
	check("IOMMU_IOAS_ALLOC", ioctl(iommufd, IOAS_ALLOC, &ia));
	SAY("ioas 0x%x\n", ia.out_ioas_id);
	SAY("devid 0x%x\n", bind(dev, iommufd, "BIND_IOMMUFD"));
	struct attach_pt at = { .argsz = sizeof at, .flags = 0, .pt_id = ia.out_ioas_id };
	check("ATTACH_IOMMUFD_PT", ioctl(dev, DEVICE_ATTACH_IOMMUFD_PT, &at));
	SAY("pt 0x%x\n", at.pt_id);
	struct device_info info;
	memset(&info, 0xaa, sizeof info);
	info.argsz = sizeof info;
	check("DEVICE_GET_INFO", ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	SAY("flags 0x%x regions %u irqs %u\n", info.flags, info.num_regions, info.num_irqs);
	/* The position lseek set before the exec: read(2) there is the config space's first dword. */
	uint32_t id = 0xaaaaaaaa;
	check("read at the inherited position", read(dev, &id, 4));
	SAY("config id 0x%08x\n", id);
	check("close cdev", close(dev));
	check("close iommufd", close(iommufd));
	return 0;
}

/* The legacy path to BDF's device fd: group N opened (O_CLOEXEC) into `container`, TYPE1v2. */
static int group_device(const char *n, const char *bdf, int container, int *grp)
{
	char path[64];
	snprintf(path, sizeof path, "/dev/vfio/%s", n);
	*grp = open(path, O_RDWR | O_CLOEXEC);
	check("open group O_CLOEXEC", *grp < 0 ? -1 : 0);
	check("SET_CONTAINER", ioctl(*grp, VFIO_GROUP_SET_CONTAINER, &container));
	check("SET_IOMMU", ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	int device = ioctl(*grp, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check("GET_DEVICE_FD", device < 0 ? -1 : 0);
	return device;
}

/* The legacy path: closing the group (its last reference) detaches it from the container. */
static int group(const char *self, const char *n, const char *bdf)
{
	int container = open_kept("open container", "/dev/vfio/vfio"), grp;
	int device = group_device(n, bdf, container, &grp);
	check("device fd FD_CLOEXEC", fcntl(device, F_GETFD));
	char a[16], b[16], c[16];
	snprintf(a, sizeof a, "%d", container);
	snprintf(b, sizeof b, "%d", grp);
	snprintf(c, sizeof c, "%d", device);
	exec_self(self, (char *[]){ (char *)self, "rungroup", a, b, c, (char *)n, (char *)bdf, NULL });
	return 127;
}

static int rungroup(int container, int grp, int device, const char *n, const char *bdf)
{
	check("fcntl group", fcntl(grp, F_GETFD));
	check("fcntl device", fcntl(device, F_GETFD));
	check("fcntl container", fcntl(container, F_GETFD));
	/* The group's release left the container: with no group, it has no IOMMU driver. */
	struct vfio_iommu_type1_info info;
	memset(&info, 0xaa, sizeof info);
	info.argsz = sizeof info;
	check("IOMMU_GET_INFO", ioctl(container, VFIO_IOMMU_GET_INFO, &info));
	/* The group opens again (its opened_file is gone) and takes the container again. */
	int again;
	int dev = group_device(n, bdf, container, &again);
	check("IOMMU_GET_INFO", ioctl(container, VFIO_IOMMU_GET_INFO, &info));
	struct device_info di;
	memset(&di, 0xaa, sizeof di);
	di.argsz = sizeof di;
	check("DEVICE_GET_INFO", ioctl(dev, VFIO_DEVICE_GET_INFO, &di));
	SAY("flags 0x%x regions %u irqs %u\n", di.flags, di.num_regions, di.num_irqs);
	check("close device", close(dev));
	check("close group", close(again));
	check("close container", close(container));
	return 0;
}

/* The model's eventfd mirroring the program's stays wired across the exec. */
static int irq(const char *self, const char *n, const char *bdf)
{
	int container = open_kept("open container", "/dev/vfio/vfio"), grp;
	int device = group_device(n, bdf, container, &grp);
	check("clear FD_CLOEXEC", fcntl(device, F_SETFD, 0));
	int efd = eventfd(0, 0);
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} trigger = { { .argsz = sizeof trigger, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 }, efd };
	check("SET_IRQS INTx eventfd", ioctl(device, VFIO_DEVICE_SET_IRQS, &trigger));
	char a[16], b[16];
	snprintf(a, sizeof a, "%d", device);
	snprintf(b, sizeof b, "%d", efd);
	exec_self(self, (char *[]){ (char *)self, "runirq", a, b, NULL });
	return 127;
}

static int runirq(int device, int efd)
{
	struct vfio_irq_set loop = { .argsz = sizeof loop, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };
	check("SET_IRQS INTx loopback", ioctl(device, VFIO_DEVICE_SET_IRQS, &loop));
	uint64_t count = 0;
	check("read eventfd", read(efd, &count, sizeof count));
	SAY("eventfd count %llu\n", (unsigned long long)count);
	check("close device", close(device));
	return 0;
}

/* A program's own memfd where an emulated fd was is the program's, not the model's. */
static int own(const char *self)
{
	int container = open_kept("open container", "/dev/vfio/vfio");
	check("raw close", syscall(SYS_close, container));
	int mine = memfd_create("vfio-emu", 0);
	check("memfd at the same number", mine == container ? 0 : -1);
	char a[16];
	snprintf(a, sizeof a, "%d", mine);
	exec_self(self, (char *[]){ (char *)self, "runown", a, NULL });
	return 127;
}

static int runown(int fd)
{
	check("fcntl", fcntl(fd, F_GETFD));
	check("GET_API_VERSION", ioctl(fd, VFIO_GET_API_VERSION));
	struct stat st;
	check("fstat", fstat(fd, &st));
	SAY("%s\n", S_ISREG(st.st_mode) ? "regular file" : "not a regular file");
	check("close", close(fd));
	return 0;
}

/* `arg` with each @IOMMUFD@ and @DEV@ replaced by the fd's number (a fresh string). */
static char *with_fds(const char *arg, int iommufd, int dev)
{
	char *out = malloc(strlen(arg) + 64), *o = out;
	while (*arg) {
		if (!strncmp(arg, "@IOMMUFD@", 9)) {
			o += sprintf(o, "%d", iommufd);
			arg += 9;
		} else if (!strncmp(arg, "@DEV@", 5)) {
			o += sprintf(o, "%d", dev);
			arg += 5;
		} else {
			*o++ = *arg++;
		}
	}
	*o = 0;
	return out;
}

static int pass(const char *cdev, int argc, char **argv)
{
	int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	int dev = open(cdev, O_RDWR | O_CLOEXEC);
	if (iommufd < 0 || dev < 0 || fcntl(iommufd, F_SETFD, 0) || fcntl(dev, F_SETFD, 0)) {
		perror("exec-fds: open");
		return 1;
	}
	char **args = calloc((size_t)argc + 1, sizeof *args);
	for (int i = 0; i < argc; i++)
		args[i] = with_fds(argv[i], iommufd, dev);
	execvp(args[0], args);
	perror("exec-fds: execvp");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "group"))
		return group(argv[0], argv[2], argv[3]);
	if (argc == 7 && !strcmp(argv[1], "rungroup"))
		return rungroup(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
	if (argc == 4 && !strcmp(argv[1], "irq"))
		return irq(argv[0], argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "runirq"))
		return runirq(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "own"))
		return own(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "runown"))
		return runown(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "pass"))
		return pass(argv[2], argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "launch"))
		return launch(argv[0], argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "fork"))
		return launch(argv[0], argv[2], 1);
	if (argc == 5 && !strcmp(argv[1], "run"))
		return run(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: exec-fds launch|fork CDEV | group N BDF | irq N BDF | own | pass CDEV PROGRAM ARGS...\n");
	return 2;
}
