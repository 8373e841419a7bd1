/* The test clients' output: one line per step, "what = result" or "what = -1 strerror". */
#ifndef SAY_H
#define SAY_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SAY(...) (printf(__VA_ARGS__), fflush(stdout))
static void check(const char *what, long r)
{
	if (r < 0)
		SAY("%s = %ld %s\n", what, r, strerror(errno));
	else
		SAY("%s = %ld\n", what, r);
}
#define CHECK(what, r) check(what, (long)(r))
#endif
