#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "firewall/job.h"

static int
dup_array(const void *v, size_t n, size_t sz, void **ret)
{
	*ret = NULL;
	if (n == 0)
		return 0;
	if ((*ret = malloc(n * sz)) == NULL)
		return -ENOMEM;
	memcpy(*ret, v, n * sz);
	return 0;
}

int
fw_job_copy(const struct fw_job *src, struct fw_job *ret)
{
	void *nets = NULL, *eps = NULL, *ports = NULL, *ct = NULL;

	if (dup_array(src->model.nets, src->model.nnets,
	    sizeof(*src->model.nets), &nets) < 0 ||
	    dup_array(src->model.eps, src->model.neps,
	    sizeof(*src->model.eps), &eps) < 0 ||
	    dup_array(src->model.ports, src->model.nports,
	    sizeof(*src->model.ports), &ports) < 0 ||
	    dup_array(src->ct, src->nct, sizeof(*src->ct), &ct) < 0) {
		free(nets);
		free(eps);
		free(ports);
		return -ENOMEM;
	}
	*ret = *src;
	ret->model.nets = nets;
	ret->model.eps = eps;
	ret->model.ports = ports;
	ret->ct = ct;
	return 0;
}

void
fw_job_done(struct fw_job *j)
{
	if (j == NULL)
		return;
	free((void *)j->model.nets);
	free((void *)j->model.eps);
	free((void *)j->model.ports);
	free((void *)j->ct);
	memset(j, 0, sizeof(*j));
}

static uint64_t
now_usec(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
fw_job_run(struct fw *fw, struct fw_hostports *hp, const struct fw_job *j,
    struct fw_result *ret)
{
	uint64_t t0 = now_usec();
	int r = 0;

	ret->err[0] = '\0';
	ret->warn[0] = '\0';
	if (j->drop4)
		r = fw->ops->forward_drop(fw, AF_INET, ret->err,
		    sizeof(ret->err));
	if (r == 0 && j->drop6)
		r = fw->ops->forward_drop(fw, AF_INET6, ret->err,
		    sizeof(ret->err));
	if (r == 0 && j->sync)
		r = fw->ops->sync(fw, &j->model, ret->err, sizeof(ret->err));
	for (size_t i = 0; r == 0 && hp != NULL && i < j->nct; i++)
		(void) hp->ops->conntrack_flush_udp(hp, j->ct[i].family,
		    &j->ct[i].port, 1, ret->warn, sizeof(ret->warn));
	ret->r = r;
	ret->usec = now_usec() - t0;
}
