/* Record mode: placeholder until the writer lands. */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
int vfio_record_active(void) { return 0; }
void vfio_record_setup(void) {}
void vfio_record_open(const char *path, int flags, int ret, int err) { (void)path; (void)flags; (void)ret; (void)err; }
void vfio_record_close(int fd, int ret, int err) { (void)fd; (void)ret; (void)err; }
void vfio_record_ioctl_before(int fd, unsigned long req, unsigned long arg) { (void)fd; (void)req; (void)arg; }
void vfio_record_ioctl(int fd, unsigned long req, unsigned long arg, int ret, int err) { (void)fd; (void)req; (void)arg; (void)ret; (void)err; }
void vfio_record_pread(int fd, const void *buf, size_t len, uint64_t off, ssize_t ret, int err) { (void)fd; (void)buf; (void)len; (void)off; (void)ret; (void)err; }
void vfio_record_pwrite(int fd, const void *buf, size_t len, uint64_t off, ssize_t ret, int err) { (void)fd; (void)buf; (void)len; (void)off; (void)ret; (void)err; }
