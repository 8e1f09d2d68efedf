#include <fcntl.h>
#include <sys/select.h>
#include <unistd.h>

#include "lib/fd.h"

int
fd_move_high(int fd)
{
	int high;

	if (fd < 0 || fd >= FD_SETSIZE)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
	if (high < 0)
		return fd;
	(void) close(fd);
	return high;
}
