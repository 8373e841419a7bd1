/*
 * One /dev/kmsg record's message, as the kernel log's `kmsg` events carry it (docs/trace-format.md):
 * the text after "prio,seq,ts,flags;" up to the first newline (the "KEY=value" dictionary lines
 * after it are not the message), with devkmsg_read's \xNN escapes of unprintable bytes undone
 * (printk_get_next_message / msg_add_ext_text). Shared by the recorder (vfio-record.c) and the
 * real-kernel probes (tools/realkernel/vtrace.h).
 */
#ifndef KMSG_TEXT_H
#define KMSG_TEXT_H
#include <stddef.h>
#include <string.h>

static inline int kmsg_unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The message of NUL-terminated record `rec` into text[cap]: its length, or -1 for no ';'. */
static inline long kmsg_text(const char *rec, char *text, size_t cap)
{
	const char *s = strchr(rec, ';');
	if (!s)
		return -1;
	size_t m = 0;
	for (s++; *s && *s != '\n' && m < cap; s++) {
		if (s[0] == '\\' && s[1] == 'x' && kmsg_unhex(s[2]) >= 0 && kmsg_unhex(s[3]) >= 0) {
			text[m++] = (char)(kmsg_unhex(s[2]) << 4 | kmsg_unhex(s[3]));
			s += 3;
		} else {
			text[m++] = *s;
		}
	}
	return (long)m;
}
#endif
