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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

/* include/uapi/linux/iommufd.h and vfio.h (6.6+): the header here may predate them. */
#define VFIO_NR(n) _IO(';', 100 + (n))
#define IOMMU_NR(n) _IO(';', 0x80 + (n))
#define DEVICE_GET_INFO VFIO_NR(7)
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
	if (child == 0) {
		execv(self, argv);
		check("execv", -1);
		_exit(127);
	}
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
	check("DEVICE_GET_INFO", ioctl(dev, DEVICE_GET_INFO, &info));
	SAY("flags 0x%x regions %u irqs %u\n", info.flags, info.num_regions, info.num_irqs);
	/* The position lseek set before the exec: read(2) there is the config space's first dword. */
	uint32_t id = 0xaaaaaaaa;
	check("read at the inherited position", read(dev, &id, 4));
	SAY("config id 0x%08x\n", id);
	check("close cdev", close(dev));
	check("close iommufd", close(iommufd));
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
	if (argc >= 4 && !strcmp(argv[1], "pass"))
		return pass(argv[2], argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "launch"))
		return launch(argv[0], argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "fork"))
		return launch(argv[0], argv[2], 1);
	if (argc == 5 && !strcmp(argv[1], "run"))
		return run(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: exec-fds launch|fork CDEV, exec-fds run IOMMUFD DEV GONE, or exec-fds pass CDEV PROGRAM ARGS...\n");
	return 2;
}
