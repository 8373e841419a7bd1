/*
 * Driver binding through sysfs, as a VFIO user's set-up script does it: each argument triple or
 * pair is one step, printed as "what = result" (say.h), with the errno the kernel gave.
 *   w PATH TEXT   open(PATH, O_WRONLY), write(TEXT "\n") as one write(2), close
 *   r PATH        the file's first line (open O_RDONLY, read)
 *   l PATH        readlink(PATH)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SAY(...) (printf(__VA_ARGS__), fflush(stdout))

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc;) {
		const char *op = argv[i], *path = argv[i + 1];
		char buf[256];
		if (op[0] == 'w' && i + 2 < argc) {
			int n = snprintf(buf, sizeof buf, "%s\n", argv[i + 2]);
			int fd = open(path, O_WRONLY);
			if (fd < 0) {
				SAY("open %s = -1 %s\n", path, strerror(errno));
			} else {
				long r = write(fd, buf, (size_t)n);
				if (r < 0)
					SAY("write %s %s = -1 %s\n", path, argv[i + 2], strerror(errno));
				else
					SAY("write %s %s = %ld\n", path, argv[i + 2], r);
				close(fd);
			}
			i += 3;
			continue;
		}
		if (op[0] == 'r') {
			int fd = open(path, O_RDONLY);
			long r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
			if (r < 0)
				SAY("read %s = -1 %s\n", path, strerror(errno));
			else
				SAY("read %s = %.*s", path, (int)r, buf);
			if (fd >= 0)
				close(fd);
		} else {
			long r = readlink(path, buf, sizeof buf - 1);
			if (r < 0)
				SAY("readlink %s = -1 %s\n", path, strerror(errno));
			else
				SAY("readlink %s = %.*s\n", path, (int)r, buf);
		}
		i += 2;
	}
	return 0;
}
