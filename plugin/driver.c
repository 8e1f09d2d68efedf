#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "firewall/job.h"
#include "loop/work.h"
#include "plugin/driver.h"
#include "plugin/errmsg.h"
#include "plugin/fileutil.h"
#include "plugin/log.h"

struct drv {
	char		*state_dir;
	struct lnk	*lnk;		/* borrowed: the loop's */
	struct lnk	*wlnk;		/* borrowed: the worker's */
	struct fw	*fw;		/* borrowed, may be NULL; the worker's */
	struct fw_hostports *ports;	/* borrowed, may be NULL */
	struct ipam	*ipam;
	struct st_doc	st;		/* networks, endpoints, the ULA /48 */
	char		*saved;		/* last state written, for rollback */
	char		tick_err[256];	/* last tick failure logged */
	unsigned long	gen;		/* bumped when joins change */
	struct loop_work *work;		/* state writes and firewall jobs */
	bool		busy;		/* an operation waits on the worker */
	drv_done_fn	*done;		/* its completion */
	void		*done_arg;
	drv_change_fn	*changed;
	void		*changed_arg;
	struct drv_fw_status fwst;
	enum fw_backend	fw_backend;	/* for drv_status */
	char		fw_why[256];
};

/*
 * An operation's second half.  The loop decides and changes the state in
 * memory, then hands the worker what may wait, in this order: the links
 * (creating a bridge or a veth pair takes 15-25 ms in the kernel, deleting
 * one 40-100 ms), the state file (fsync), the firewall job, and links to
 * remove once the rest is done.  A link the worker made is removed by the
 * worker again when a later step fails.  Back on the loop, op_finish()
 * keeps the change or undoes it in memory.
 */
enum op_kind {
	OP_CREATE_NET,
	OP_DELETE_NET,
	OP_CREATE_EP,
	OP_DELETE_EP,
	OP_JOIN,
	OP_LEAVE,
	OP_PORTS,
	OP_IPAM,		/* undone from the last state written */
	OP_REQUEST_POOL,	/* undone by releasing the pool */
	OP_BACKGROUND,		/* nobody waits: failures are logged */
};

struct drv_op {
	struct drv	*d;
	enum op_kind	kind;
	const char	*what;		/* "deleting a network": for logs */
	bool		tick;		/* the periodic check */
	/* The worker's part. */
	bool		mk_bridge;	/* bc: create, with the sysctls */
	struct lnk_bridge_cfg bc;
	bool		fwd6;		/* IPv6 forwarding too */
	bool		mk_veth;	/* vc: create */
	struct lnk_veth_cfg vc;
	bool		rm_veth;	/* host/peer: delete first */
	char		host[OPT_IFNAMSIZ], peer[OPT_IFNAMSIZ];
	char		*state;		/* to write; NULL: nothing */
	size_t		state_len;
	bool		save_first;	/* else only after the firewall */
	bool		has_fw;
	bool		fw_fatal;	/* a firewall failure undoes it all */
	struct fw_job	job;		/* owned arrays */
	bool		rm_after;	/* then: stale's veths, bc's bridge */
	/* What happened there. */
	int		link_r;
	char		link_err[256];
	bool		flip4, flip6;	/* forwarding turned on */
	int		save_r;
	char		save_err[256];
	struct fw_result fw;
	int		after_r;
	char		after_err[256];	/* the bridge's removal */
	char		after_warn[256]; /* a stale veth's */
	/* The loop's part: what to keep or undo. */
	struct net_cfg	*net;
	size_t		idx;
	struct ep_cfg	*ep, old_ep;
	struct ep_port	*ports;		/* OP_PORTS: the list replaced */
	size_t		nports;
	struct ep_cfg	**stale;	/* OP_DELETE_NET: its endpoints */
	size_t		nstale;
	char		pool_id[IPAM_ID_MAX];
};

static int	take_endpoints_of(struct drv *d, const char *net_id,
		    struct ep_cfg ***ret, size_t *ret_n);
static void	release_ports(struct drv *d, struct ep_cfg *e);

/* An endpoint about to change, copied for the undo.  Its cached text is
 * dropped first, so the copy never holds a pointer to it. */
static void
ep_save(struct ep_cfg *e, struct ep_cfg *ret)
{
	ep_cfg_changed(e);
	*ret = *e;
}

/* Puts e back as ep_save() copied it; the text cached since is dropped. */
static void
ep_restore(struct ep_cfg *e, const struct ep_cfg *saved)
{
	ep_cfg_changed(e);
	*e = *saved;
}

static int
fill_random(void *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, 0);

	return n == (ssize_t)len ? 0 : -EIO;
}

/* The bridge as net's configuration says it should be. */
static void
bridge_cfg(const struct net_cfg *n, struct lnk_bridge_cfg *c)
{
	*c = (struct lnk_bridge_cfg){ .mtu = n->opts.mtu,
	    .ipv6 = n->opts.enable_ipv6, .route_localnet = n->has_v4 };
	memcpy(c->name, n->bridge, sizeof(c->name));
	if (n->has_gw4 && !n->opts.inhibit_ipv4)
		c->addrs[c->naddrs++] = n->gw4;
	if (n->has_gw6 && n->opts.enable_ipv6)
		c->addrs[c->naddrs++] = n->gw6;
}

static struct net_cfg *
find_net(const struct drv *d, const char *id, size_t *ret_idx)
{
	for (size_t i = 0; i < d->st.nnets; i++) {
		if (strcmp(d->st.nets[i]->id, id) == 0) {
			if (ret_idx != NULL)
				*ret_idx = i;
			return d->st.nets[i];
		}
	}
	return NULL;
}

/* Writes the current state; on failure the caller undoes its change. */
static int
save(struct drv *d, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = st_encode(&d->st, d->ipam, &buf, &len, err, errlen);
	if (r < 0)
		return r;
	r = fu_write_atomic(d->state_dir, ST_FILE, buf, len, err, errlen);
	if (r < 0) {
		free(buf);
		return r;
	}
	free(d->saved);
	d->saved = buf;
	d->gen++;
	return 0;
}

/* Puts the IPAM back as it was at the last successful save. */
static void
rollback_ipam(struct drv *d)
{
	struct st_doc doc = { 0 };
	char err[256];

	if (d->saved == NULL ||
	    st_decode(d->saved, strlen(d->saved), d->ipam, &doc, err,
	    sizeof(err)) < 0)
		log_error("Failed to roll back IPAM state: %s", err);
	st_doc_done(&doc);
}

static enum fw_gw_mode
fw_mode(enum gw_mode m)
{
	switch (m) {
	case GW_MODE_NAT_UNPROTECTED:	return FW_GW_NAT_UNPROTECTED;
	case GW_MODE_ROUTED:		return FW_GW_ROUTED;
	case GW_MODE_ISOLATED:		return FW_GW_ISOLATED;
	default:			return FW_GW_NAT;
	}
}

static void
fill_fw_net(const struct net_cfg *n, struct fw_net *f)
{
	memcpy(f->id, n->id, sizeof(f->id));
	memcpy(f->bridge, n->bridge, sizeof(f->bridge));
	f->ipv4 = n->has_v4;
	f->ipv6 = n->has_v6 && n->opts.enable_ipv6;
	f->icc = n->opts.enable_icc;
	f->internal = n->opts.internal;
	f->masquerade = n->opts.enable_ip_masquerade;
	f->gw4 = fw_mode(n->opts.gw_mode_ipv4);
	f->gw6 = fw_mode(n->opts.gw_mode_ipv6);
	if (f->ipv4)
		f->subnet4 = n->pool4;
	if (f->ipv6)
		f->subnet6 = n->pool6;
	if (n->opts.has_host_ipv4)
		f->snat4 = n->opts.host_ipv4;
	if (n->opts.has_host_ipv6)
		f->snat6 = n->opts.host_ipv6;
	f->ntrusted = n->opts.ntrusted;
	for (size_t t = 0; t < n->opts.ntrusted && t < FW_MAX_TRUSTED; t++)
		memcpy(f->trusted[t], n->opts.trusted[t], sizeof(f->trusted[t]));
}

/* The firewall model of the state in memory, in arrays the caller
 * owns (fw_job_done). */
static int
build_model(struct drv *d, struct fw_model *ret)
{
	struct fw_model m = { 0 };
	struct fw_net *nets = NULL;
	struct fw_ep *eps = NULL;
	struct fw_port *ports = NULL;
	size_t nports = 0;

	for (size_t i = 0; i < d->st.neps; i++)
		nports += d->st.eps[i]->nports;
	if ((nets = calloc(d->st.nnets + 1, sizeof(*nets))) == NULL ||
	    (eps = calloc(d->st.neps + 1, sizeof(*eps))) == NULL ||
	    (ports = calloc(nports + 1, sizeof(*ports))) == NULL) {
		free(nets);
		free(eps);
		free(ports);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->st.nnets; i++)
		fill_fw_net(d->st.nets[i], &nets[i]);
	nports = 0;
	for (size_t i = 0; i < d->st.neps; i++) {
		const struct ep_cfg *e = d->st.eps[i];
		struct fw_ep *fe = &eps[i];

		memcpy(fe->net_id, e->net_id, sizeof(fe->net_id));
		if (e->has_addr4)
			fe->addr4 = e->addr4;
		if (e->has_addr6)
			fe->addr6 = e->addr6;
		for (size_t j = 0; j < e->nports; j++) {
			const struct ep_port *p = &e->ports[j];
			struct fw_port *fp = &ports[nports++];

			memcpy(fp->net_id, e->net_id, sizeof(fp->net_id));
			fp->family = p->family;
			fp->proto = p->proto;
			if (p->has_host_ip)
				fp->host_ip = p->host_ip;
			fp->host_port = p->host_port;
			fp->cip = p->family == AF_INET ? fe->addr4 : fe->addr6;
			fp->cport = p->cport;
		}
	}
	m.nets = nets;
	m.nnets = d->st.nnets;
	m.eps = eps;
	m.neps = d->st.neps;
	m.ports = ports;
	m.nports = nports;
	*ret = m;
	return 0;
}

static struct drv_op *
op_new(struct drv *d, enum op_kind kind, const char *what)
{
	struct drv_op *op = calloc(1, sizeof(*op));

	if (op != NULL) {
		op->d = d;
		op->kind = kind;
		op->what = what;
	}
	return op;
}

static void
op_free(struct drv_op *op)
{
	if (op == NULL)
		return;
	fw_job_done(&op->job);
	free(op->state);
	free(op);
}

/* The worker writes the state as it is in memory now. */
static int
stage_state(struct drv *d, struct drv_op *op, bool save_first, char *err,
    size_t errlen)
{
	op->save_first = save_first;
	return st_encode(&d->st, d->ipam, &op->state, &op->state_len, err,
	    errlen);
}

/* The worker brings the rules in line with the state in memory now. */
static int
stage_fw(struct drv *d, struct drv_op *op)
{
	int r;

	if (d->fw == NULL)
		return 0;
	if ((r = build_model(d, &op->job.model)) < 0)
		return r;
	op->has_fw = true;
	op->job.sync = true;
	return 0;
}

/* Whether the step that decides op's fate failed. */
static bool
op_failed(const struct drv_op *op)
{
	return op->link_r < 0 || op->save_r < 0 ||
	    (op->fw_fatal && op->fw.r < 0);
}

static void
run_links(struct drv *d, struct drv_op *op)
{
	struct lnk *l = d->wlnk;
	int r = 0;

	if (op->mk_bridge) {
		r = l->ops->bridge_create(l, &op->bc, op->link_err,
		    sizeof(op->link_err));
		if (r == 0) {
			r = l->ops->host_sysctls(l, op->fwd6, &op->flip4,
			    &op->flip6, op->link_err, sizeof(op->link_err));
			/* As dockerd: forwarding cbridge turned on comes with
			 * a FORWARD policy of DROP. */
			op->job.drop4 = op->flip4 && d->fw != NULL;
			op->job.drop6 = op->flip6 && d->fw != NULL;
		}
	}
	if (r == 0 && op->mk_veth)
		r = l->ops->veth_create(l, &op->vc, op->link_err,
		    sizeof(op->link_err));
	if (r == 0 && op->rm_veth)
		r = l->ops->veth_delete(l, op->host, op->peer, op->link_err,
		    sizeof(op->link_err));
	op->link_r = r;
}

/* A step after the links failed: the links made go again. */
static void
undo_links(struct drv *d, struct drv_op *op)
{
	struct lnk *l = d->wlnk;
	char ignore[256];

	if (op->mk_veth)
		(void) l->ops->veth_delete(l, op->vc.host, op->vc.peer, ignore,
		    sizeof(ignore));
	if (op->mk_bridge)
		(void) l->ops->bridge_delete(l, op->bc.name, ignore,
		    sizeof(ignore));
}

static void
remove_after(struct drv *d, struct drv_op *op)
{
	struct lnk *l = d->wlnk;
	char e[256];

	for (size_t i = 0; i < op->nstale; i++)
		if (l->ops->veth_delete(l, op->stale[i]->host,
		    op->stale[i]->peer, e, sizeof(e)) < 0 &&
		    op->after_warn[0] == '\0')
			(void) snprintf(op->after_warn, sizeof(op->after_warn),
			    "endpoint %.12s: %.200s", op->stale[i]->id, e);
	op->after_r = l->ops->bridge_delete(l, op->bc.name, op->after_err,
	    sizeof(op->after_err));
}

static int
write_state(struct drv *d, struct drv_op *op)
{
	return fu_write_atomic(d->state_dir, ST_FILE, op->state, op->state_len,
	    op->save_err, sizeof(op->save_err));
}

/* On the worker thread: nothing here touches what the loop owns but the
 * op itself (and what it was handed), the state directory's name, and
 * the firewall backend and netlink handle that only the worker uses. */
static void
op_run(void *arg)
{
	struct drv_op *op = arg;
	struct drv *d = op->d;

	op->link_r = op->save_r = op->after_r = 0;
	op->fw.r = 0;
	run_links(d, op);
	if (op->link_r < 0)
		return;
	if (op->state != NULL && op->save_first)
		op->save_r = write_state(d, op);
	if (op->save_r == 0 && op->has_fw)
		fw_job_run(d->fw, d->ports, &op->job, &op->fw);
	if (op->state != NULL && !op->save_first && op->fw.r == 0)
		op->save_r = write_state(d, op);
	if (op_failed(op)) {
		undo_links(d, op);
		return;
	}
	if (op->rm_after)
		remove_after(d, op);
}

static int	op_finish(struct drv_op *op, char *err, size_t errlen);
static int	finish_delete_net(struct drv *d, struct drv_op *op, char *err,
		    size_t errlen);
static int	finish_create_ep(struct drv *d, struct drv_op *op, char *err,
		    size_t errlen);
static int	finish_delete_ep(struct drv *d, struct drv_op *op, char *err,
		    size_t errlen);
static int	finish_ports(struct drv *d, struct drv_op *op, char *err,
		    size_t errlen);

static void
op_done(void *arg)
{
	struct drv_op *op = arg;
	struct drv *d = op->d;
	bool bg = op->kind == OP_BACKGROUND;
	char err[512] = "";
	int r;

	r = op_finish(op, err, sizeof(err));
	op_free(op);
	if (bg)
		return;
	d->busy = false;
	if (d->done != NULL)
		d->done(d->done_arg, r, err);
}

/*
 * Hands op to the worker.  With a threaded worker: -EINPROGRESS, and the
 * result reaches the drv_done_fn.  Inline (no loop): runs it here and
 * returns the result.  Takes op either way.
 */
static int
run_op(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	int r;

	if (loop_work_threaded(d->work)) {
		if (loop_work_submit(d->work, op_run, op_done, op) == 0) {
			if (op->kind != OP_BACKGROUND)
				d->busy = true;
			return -EINPROGRESS;
		}
		/* Not even queued: as if the write had failed. */
		op->save_r = -ENOMEM;
		(void) snprintf(op->save_err, sizeof(op->save_err),
		    "out of memory");
	} else
		op_run(op);
	r = op_finish(op, err, errlen);
	op_free(op);
	return r;
}

/* Rules (and, with a state, the file) brought in line; nobody waits. */
static void
run_background(struct drv *d, const char *what, bool with_state)
{
	struct drv_op *op = op_new(d, OP_BACKGROUND, what);
	char err[256];

	if (op == NULL || (with_state && stage_state(d, op, true, err,
	    sizeof(err)) < 0) || stage_fw(d, op) < 0) {
		log_error("Failed to update firewall rules after %s: out of "
		    "memory", what);
		op_free(op);
		return;
	}
	(void) run_op(d, op, err, sizeof(err));
}

/* The state file now holds what op wrote. */
static void
state_written(struct drv *d, struct drv_op *op)
{
	free(d->saved);
	d->saved = op->state;
	op->state = NULL;
	d->gen++;
	if (d->changed != NULL)
		d->changed(d->changed_arg);
}

/* The wall clock in microseconds since the epoch (1: unreadable, so
 * that a sync that ran is never taken for none). */
static int64_t
wall_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec <= 0)
		return 1;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* On the loop: the firewall job's result, for drv_status. */
static void
note_fw(struct drv *d, const struct drv_op *op)
{
	if (!op->has_fw || op->link_r < 0 ||
	    (op->save_first && op->save_r < 0))
		return;
	d->fwst.syncs++;
	d->fwst.last_at_usec = wall_usec();
	d->fwst.last_usec = op->fw.usec;
	if (op->fw.r < 0)
		d->fwst.failures++;
	(void) snprintf(d->fwst.last_err, sizeof(d->fwst.last_err), "%.255s",
	    op->fw.r < 0 ? op->fw.err : "");
	if (op->fw.warn[0] != '\0')
		log_warnx("%s", op->fw.warn);
}

/* The error of whichever step failed first. */
static int
op_error(const struct drv_op *op, char *err, size_t errlen)
{
	if (op->link_r < 0) {
		ERR("%s", op->link_err);
		return op->link_r;
	}
	if (op->save_first && op->save_r < 0) {
		ERR("%s", op->save_err);
		return op->save_r;
	}
	if (op->fw.r < 0) {
		ERR("%s", op->fw.err);
		return op->fw.r;
	}
	if (op->save_r < 0) {
		ERR("%s", op->save_err);
		return op->save_r;
	}
	return 0;
}

static void
log_fw_failure(const struct drv_op *op)
{
	if (op->has_fw && op->link_r == 0 && op->save_r == 0 && op->fw.r < 0)
		log_error("Failed to update firewall rules after %s: %s",
		    op->what, op->fw.err);
}

static int
check_ipdata(const struct drv_ipdata *ipd, int family, char *err,
    size_t errlen)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	if (ipd->pool.family != family || !prefix_is_masked(&ipd->pool)) {
		ERR("invalid %s subnet %s", fam,
		    prefix_format(&ipd->pool, a, sizeof(a)));
		return -EINVAL;
	}
	if (ipd->has_gw && (ipd->gw.family != family ||
	    !prefix_contains(&ipd->pool, &ipd->gw))) {
		ERR("gateway %s is not inside subnet %s",
		    prefix_format_addr(&ipd->gw, a, sizeof(a)),
		    prefix_format(&ipd->pool, b, sizeof(b)));
		return -EINVAL;
	}
	return 0;
}

/* Validates one IPv4Data/IPv6Data entry and copies it into a network;
 * the gateway takes the subnet's prefix length, as on the bridge. */
static int
take_ipdata(const struct drv_ipdata *ipd, int family, bool *ret_has,
    struct prefix *ret_pool, bool *ret_has_gw, struct prefix *ret_gw,
    char *err, size_t errlen)
{
	if (check_ipdata(ipd, family, err, errlen) < 0)
		return -EINVAL;
	*ret_has = true;
	*ret_pool = ipd->pool;
	*ret_has_gw = ipd->has_gw;
	*ret_gw = ipd->gw;
	ret_gw->plen = ipd->pool.plen;
	return 0;
}

/* Everything that can be refused is refused here, before the host is
 * touched. */
static int
build_net(struct drv *d, const struct drv_net_req *req, struct net_cfg **ret,
    char *err, size_t errlen)
{
	struct net_cfg *n;
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	int r;

	if (find_net(d, req->id, NULL) != NULL) {
		ERR("network %s already exists", req->id);
		return -EEXIST;
	}
	if (d->st.nnets >= DRV_MAX_NETWORKS) {
		ERR("too many cbridge networks (at most %d)", DRV_MAX_NETWORKS);
		return -E2BIG;
	}
	if (req->nv4 > 1 || req->nv6 > 1) {
		ERR("a cbridge network has at most one IPv4 and one IPv6 "
		    "subnet");
		return -EINVAL;
	}
	if (req->nv6 > 0 && !req->enable_ipv6) {
		ERR("an IPv6 subnet was given but IPv6 is not enabled "
		    "(use --ipv6)");
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	memcpy(n->id, req->id, sizeof(n->id));
	if (req->generic != NULL) {
		r = opt_kvlist_copy(req->generic, &n->generic);
		if (r < 0) {
			ERR("too many or too long options");
			goto fail;
		}
	}
	r = opt_parse(&n->generic, req->enable_ipv4, req->enable_ipv6,
	    req->internal, &n->opts, err, errlen);
	if (r < 0)
		goto fail;
	if (n->opts.gw_mode_ipv4 == GW_MODE_ISOLATED ||
	    n->opts.gw_mode_ipv6 == GW_MODE_ISOLATED) {
		/* Docker 28's "isolated" leaves the bridge without an
		 * address; cbridge's --internal is the way to get a network
		 * that reaches nothing. */
		ERR("gateway mode 'isolated' is not supported by cbridge; use "
		    "--internal for a network without a way out");
		r = -ENOTSUP;
		goto fail;
	}
	if (n->opts.bridge_name[0] != '\0')
		memcpy(n->bridge, n->opts.bridge_name, sizeof(n->bridge));
	else
		(void) snprintf(n->bridge, sizeof(n->bridge), "%s%.12s",
		    DRV_BRIDGE_PREFIX, n->id);

	r = -EINVAL;
	if (req->nv4 == 1 && take_ipdata(&req->v4[0], AF_INET, &n->has_v4,
	    &n->pool4, &n->has_gw4, &n->gw4, err, errlen) < 0)
		goto fail;
	if (req->nv6 == 1 && take_ipdata(&req->v6[0], AF_INET6, &n->has_v6,
	    &n->pool6, &n->has_gw6, &n->gw6, err, errlen) < 0)
		goto fail;

	r = -EEXIST;
	for (size_t i = 0; i < d->st.nnets; i++) {
		const struct net_cfg *o = d->st.nets[i];

		if (strcmp(o->bridge, n->bridge) == 0) {
			ERR("bridge name '%s' is already used by network %.12s",
			    n->bridge, o->id);
			goto fail;
		}
		if (n->has_v4 && o->has_v4 &&
		    prefix_overlaps(&n->pool4, &o->pool4)) {
			ERR("subnet %s overlaps with subnet %s of network %.12s",
			    prefix_format(&n->pool4, a, sizeof(a)),
			    prefix_format(&o->pool4, b, sizeof(b)), o->id);
			goto fail;
		}
		if (n->has_v6 && o->has_v6 &&
		    prefix_overlaps(&n->pool6, &o->pool6)) {
			ERR("subnet %s overlaps with subnet %s of network %.12s",
			    prefix_format(&n->pool6, a, sizeof(a)),
			    prefix_format(&o->pool6, b, sizeof(b)), o->id);
			goto fail;
		}
	}
	*ret = n;
	return 0;
fail:
	net_cfg_free(n);
	return r;
}

/* Forwarding and bridge netfilter; if cbridge turned forwarding on, the
 * FORWARD policy becomes DROP as dockerd makes it, so the host does not
 * start routing everything else.  Left as they are when the network goes,
 * as dockerd leaves them. */
static int
host_sysctls(struct drv *d, const struct net_cfg *n, struct fw_job *job,
    char *err, size_t errlen)
{
	bool f4, f6;
	int r;

	r = d->lnk->ops->host_sysctls(d->lnk, n->has_v6 && n->opts.enable_ipv6,
	    &f4, &f6, err, errlen);
	if (r < 0 || d->fw == NULL)
		return r;
	if (f4) {
		log_info("turned on IPv4 forwarding; setting the FORWARD "
		    "policy to DROP");
		job->drop4 = true;
	}
	if (f6) {
		log_info("turned on IPv6 forwarding; setting the ip6tables "
		    "FORWARD policy to DROP");
		job->drop6 = true;
	}
	return 0;
}

int
drv_create_network(struct drv *d, const struct drv_net_req *req, char *err,
    size_t errlen)
{
	struct net_cfg *n = NULL, **nv;
	struct drv_op *op = NULL;
	int r;

	r = build_net(d, req, &n, err, errlen);
	if (r < 0)
		return r;
	if ((op = op_new(d, OP_CREATE_NET, "creating a network")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = d->lnk->ops->link_exists(d->lnk, n->bridge);
	if (r != 0) {
		if (r > 0) {
			ERR("a network interface named '%s' already exists on "
			    "the host; choose another name with -o "
			    OPT_BRIDGE_PREFIX "name=...", n->bridge);
			r = -EEXIST;
		} else
			ERR("Failed to look up interface '%s': %s", n->bridge,
			    strerror(-r));
		goto out;
	}
	nv = realloc(d->st.nets, (d->st.nnets + 1) * sizeof(*nv));
	if (nv == NULL) {
		r = -ENOMEM;
		goto out;
	}
	d->st.nets = nv;

	bridge_cfg(n, &op->bc);
	r = fill_random(op->bc.mac, sizeof(op->bc.mac));
	if (r < 0) {
		ERR("Failed to generate a MAC address");
		goto out;
	}
	/* Locally administered unicast, so it never collides with a NIC. */
	op->bc.mac[0] = (unsigned char)((op->bc.mac[0] & 0xfe) | 0x02);
	op->mk_bridge = true;
	op->fwd6 = n->has_v6 && n->opts.enable_ipv6;
	op->fw_fatal = true;
	d->st.nets[d->st.nnets++] = n;
	op->net = n;
	n = NULL;
	/* The bridge, the rules, then the state: a network is saved only
	 * once its traffic can flow. */
	if ((r = stage_fw(d, op)) < 0 ||
	    (r = stage_state(d, op, false, err, errlen)) < 0) {
		d->st.nnets--;
		n = op->net;
		goto out;
	}
	return run_op(d, op, err, errlen);
out:
	op_free(op);
	net_cfg_free(n);
	return r;
}

/* Removes net from the state, wherever it is now. */
static void
drop_net(struct drv *d, const struct net_cfg *n)
{
	size_t idx = 0;

	if (find_net(d, n->id, &idx) == n) {
		memmove(&d->st.nets[idx], &d->st.nets[idx + 1],
		    (d->st.nnets - idx - 1) * sizeof(*d->st.nets));
		d->st.nnets--;
	}
}

static void
log_flips(const struct drv_op *op)
{
	if (op->flip4)
		log_info("turned on IPv4 forwarding; setting the FORWARD "
		    "policy to DROP");
	if (op->flip6)
		log_info("turned on IPv6 forwarding; setting the ip6tables "
		    "FORWARD policy to DROP");
}

/* The worker removed the bridge again if anything failed. */
static int
finish_create_net(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	int r;

	log_flips(op);
	if ((r = op_error(op, err, errlen)) == 0) {
		state_written(d, op);
		return 0;
	}
	drop_net(d, op->net);
	net_cfg_free(op->net);
	op->net = NULL;
	/* Rules the failed sync may have left half-made. */
	if (op->link_r == 0)
		run_background(d, "a failed network creation", false);
	return r;
}

int
drv_delete_network(struct drv *d, const char *id, char *err, size_t errlen)
{
	struct ep_cfg **stale = NULL;
	struct net_cfg *n;
	struct drv_op *op;
	size_t idx, nstale = 0;
	int r;

	n = find_net(d, id, &idx);
	if (n == NULL) {
		ERR("network %s not found", id);
		return -ENOENT;
	}
	/* dockerd refuses to remove a network with endpoints, so any left
	 * are stale: they leave the state with the network, and their links
	 * go with the bridge. */
	if ((op = op_new(d, OP_DELETE_NET, "deleting a network")) == NULL)
		return -ENOMEM;
	r = take_endpoints_of(d, n->id, &stale, &nstale);
	if (r < 0) {
		op_free(op);
		return r;
	}
	memmove(&d->st.nets[idx], &d->st.nets[idx + 1],
	    (d->st.nnets - idx - 1) * sizeof(*d->st.nets));
	d->st.nnets--;
	*op = (struct drv_op){ .d = d, .kind = OP_DELETE_NET, .what = op->what,
	    .net = n, .idx = idx, .stale = stale, .nstale = nstale,
	    .rm_after = true };
	/* Only the name matters for the removal. */
	memcpy(op->bc.name, n->bridge, sizeof(op->bc.name));
	if ((r = stage_state(d, op, true, err, errlen)) < 0 ||
	    (r = stage_fw(d, op)) < 0) {
		op->save_first = true;
		op->save_r = r;
		(void) snprintf(op->save_err, sizeof(op->save_err), "%s",
		    err);
		(void) finish_delete_net(d, op, err, errlen);
		op_free(op);
		return r;
	}
	return run_op(d, op, err, errlen);
}

static int
finish_delete_net(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	struct net_cfg *n = op->net;
	int r;

	if (op->save_r < 0) {
		ERR("%s", op->save_err);
		memmove(&d->st.nets[op->idx + 1], &d->st.nets[op->idx],
		    (d->st.nnets - op->idx) * sizeof(*d->st.nets));
		d->st.nets[op->idx] = n;
		d->st.nnets++;
		/* take_endpoints_of left room for them. */
		for (size_t i = 0; i < op->nstale; i++)
			d->st.eps[d->st.neps++] = op->stale[i];
		free(op->stale);
		op->stale = NULL;
		return op->save_r;
	}
	state_written(d, op);
	if (op->after_warn[0] != '\0')
		log_warnx("%s, ignoring", op->after_warn);
	for (size_t i = 0; i < op->nstale; i++) {
		release_ports(d, op->stale[i]);
		ep_cfg_free(op->stale[i]);
	}
	free(op->stale);
	op->stale = NULL;
	log_fw_failure(op);
	/* The network is gone from the state either way; a bridge that
	 * cannot be removed is reported so the user can remove it. */
	r = op->after_r;
	if (r < 0)
		ERR("%s", op->after_err);
	net_cfg_free(n);
	op->net = NULL;
	return r;
}

static struct ep_cfg *
find_ep(const struct drv *d, const char *net_id, const char *ep_id,
    size_t *ret_idx)
{
	for (size_t i = 0; i < d->st.neps; i++) {
		struct ep_cfg *e = d->st.eps[i];

		if (strcmp(e->id, ep_id) == 0 &&
		    (net_id == NULL || strcmp(e->net_id, net_id) == 0)) {
			if (ret_idx != NULL)
				*ret_idx = i;
			return e;
		}
	}
	return NULL;
}

static void
remove_ep_at(struct drv *d, size_t idx)
{
	memmove(&d->st.eps[idx], &d->st.eps[idx + 1],
	    (d->st.neps - idx - 1) * sizeof(*d->st.eps));
	d->st.neps--;
}

/* Moves the endpoints of network net_id out of the state into *ret (a
 * malloc'ed array, *ret_n long); d->st.eps keeps its size, so they can be
 * put back without allocating. */
static int
take_endpoints_of(struct drv *d, const char *net_id, struct ep_cfg ***ret,
    size_t *ret_n)
{
	struct ep_cfg **out;
	size_t n = 0;

	out = calloc(d->st.neps + 1, sizeof(*out));
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = d->st.neps; i-- > 0;) {
		if (strcmp(d->st.eps[i]->net_id, net_id) != 0)
			continue;
		out[n++] = d->st.eps[i];
		remove_ep_at(d, i);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

void
drv_veth_names(const char *ep_id, char host[OPT_IFNAMSIZ],
    char peer[OPT_IFNAMSIZ])
{
	(void) snprintf(host, OPT_IFNAMSIZ, "%s%.12s", DRV_VETH_HOST_PREFIX,
	    ep_id);
	(void) snprintf(peer, OPT_IFNAMSIZ, "%s%.12s", DRV_VETH_PEER_PREFIX,
	    ep_id);
}

void
drv_mac_for(const struct prefix *addr4, const unsigned char rnd[6],
    unsigned char ret[6])
{
	if (addr4 != NULL && addr4->family == AF_INET) {
		ret[0] = 0x02;
		ret[1] = 0x42;
		memcpy(ret + 2, addr4->addr, 4);
		return;
	}
	memcpy(ret, rnd, 6);
	ret[0] = (unsigned char)((ret[0] & 0xfe) | 0x02);
}

void
drv_build_join(const struct net_cfg *n, const struct ep_cfg *e,
    struct drv_join *ret)
{
	struct drv_join j = { 0 };

	memcpy(j.src_name, e->peer, sizeof(j.src_name));
	(void) snprintf(j.dst_prefix, sizeof(j.dst_prefix), "%s",
	    n->opts.iface_prefix[0] ? n->opts.iface_prefix : "eth");
	/* An internal network has no way out, so no default route; other
	 * networks route through the bridge address. */
	if (!n->opts.internal) {
		if (e->has_addr4 && n->has_gw4 && !n->opts.inhibit_ipv4) {
			j.has_gw4 = true;
			j.gw4 = n->gw4;
			j.gw4.plen = prefix_maxlen(AF_INET);
		}
		if (e->has_addr6 && n->has_gw6) {
			j.has_gw6 = true;
			j.gw6 = n->gw6;
			j.gw6.plen = prefix_maxlen(AF_INET6);
		}
	}
	/* dockerd would otherwise add a docker_gwbridge interface to a
	 * container with no IPv4 gateway from us: never wanted. */
	j.disable_gw_service = true;
	*ret = j;
}

static int
check_ep_addr(const struct net_cfg *n, const struct prefix *a, int family,
    char *err, size_t errlen)
{
	bool has = family == AF_INET ? n->has_v4 : n->has_v6;
	const struct prefix *pool = family == AF_INET ? &n->pool4 : &n->pool6;
	char buf[PREFIX_STRLEN], pb[PREFIX_STRLEN];

	if (a->family != family || !has || !prefix_contains(pool, a)) {
		ERR("address %s is not inside %s", prefix_format(a, buf,
		    sizeof(buf)), has ? prefix_format(pool, pb, sizeof(pb)) :
		    "any subnet of this network");
		return -EINVAL;
	}
	return 0;
}

int
drv_create_endpoint(struct drv *d, const struct drv_ep_req *req,
    struct drv_ep_reply *ret, char *err, size_t errlen)
{
	const struct net_cfg *n;
	struct drv_ep_reply rep = { 0 };
	struct ep_cfg *e = NULL, **ev;
	struct drv_op *op = NULL;
	unsigned char rnd[6];
	int r;

	n = find_net(d, req->net_id, NULL);
	if (n == NULL) {
		ERR("network %s not found", req->net_id);
		return -ENOENT;
	}
	if (find_ep(d, NULL, req->ep_id, NULL) != NULL) {
		ERR("endpoint %s already exists", req->ep_id);
		return -EEXIST;
	}
	if (d->st.neps >= DRV_MAX_ENDPOINTS) {
		ERR("too many cbridge endpoints (at most %d)",
		    DRV_MAX_ENDPOINTS);
		return -E2BIG;
	}
	if ((req->has_addr4 && check_ep_addr(n, &req->addr4, AF_INET, err,
	    errlen) < 0) || (req->has_addr6 && check_ep_addr(n, &req->addr6,
	    AF_INET6, err, errlen) < 0))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	ev = realloc(d->st.eps, (d->st.neps + 1) * sizeof(*ev));
	if (e == NULL || ev == NULL) {
		free(e);
		if (ev != NULL)
			d->st.eps = ev;
		return -ENOMEM;
	}
	d->st.eps = ev;
	memcpy(e->id, req->ep_id, sizeof(e->id));
	memcpy(e->net_id, n->id, sizeof(e->net_id));
	drv_veth_names(e->id, e->host, e->peer);
	e->has_addr4 = req->has_addr4;
	e->addr4 = req->addr4;
	e->has_addr6 = req->has_addr6;
	e->addr6 = req->addr6;
	if (req->has_mac)
		memcpy(e->mac, req->mac, sizeof(e->mac));
	else {
		if ((r = fill_random(rnd, sizeof(rnd))) < 0) {
			ERR("Failed to generate a MAC address");
			goto fail;
		}
		drv_mac_for(e->has_addr4 ? &e->addr4 : NULL, rnd, e->mac);
		rep.mac_generated = true;
		memcpy(rep.mac, e->mac, sizeof(rep.mac));
	}

	if ((op = op_new(d, OP_CREATE_EP, "creating an endpoint")) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(op->vc.host, e->host, sizeof(op->vc.host));
	memcpy(op->vc.peer, e->peer, sizeof(op->vc.peer));
	memcpy(op->vc.bridge, n->bridge, sizeof(op->vc.bridge));
	op->vc.mtu = n->opts.mtu;
	memcpy(op->vc.peer_mac, e->mac, sizeof(op->vc.peer_mac));
	/* cbridge publishes ports with kernel NAT only (no proxy), so a
	 * container reaches its own published port back through its port. */
	op->vc.hairpin = true;
	op->mk_veth = true;
	d->st.eps[d->st.neps++] = e;
	op->ep = e;
	/* dockerd may have reset its chains since the network was made. */
	if ((r = stage_state(d, op, true, err, errlen)) < 0 ||
	    (r = stage_fw(d, op)) < 0) {
		d->st.neps--;
		goto fail;
	}
	*ret = rep;
	return run_op(d, op, err, errlen);
fail:
	op_free(op);
	ep_cfg_free(e);
	return r;
}

/* Takes e out of the state, wherever it is now. */
static void
drop_ep(struct drv *d, const struct ep_cfg *e)
{
	for (size_t i = 0; i < d->st.neps; i++) {
		if (d->st.eps[i] == e) {
			remove_ep_at(d, i);
			return;
		}
	}
}

/* The worker removed the veth pair again if the state was not saved. */
static int
finish_create_ep(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	int r;

	if ((r = op_error(op, err, errlen)) < 0 && op_failed(op)) {
		drop_ep(d, op->ep);
		ep_cfg_free(op->ep);
		op->ep = NULL;
		return r;
	}
	state_written(d, op);
	log_fw_failure(op);
	return 0;
}

int
drv_delete_endpoint(struct drv *d, const char *net_id, const char *ep_id,
    char *err, size_t errlen)
{
	struct ep_cfg *e;
	struct drv_op *op;
	size_t idx;
	int r;

	e = find_ep(d, net_id, ep_id, &idx);
	if (e == NULL) {
		ERR("endpoint %s not found on network %.12s", ep_id, net_id);
		return -ENOENT;
	}
	/* Links first (on the worker): if that fails the endpoint stays,
	 * and a retry or the network's removal cleans up. */
	if ((op = op_new(d, OP_DELETE_EP, "deleting an endpoint")) == NULL)
		return -ENOMEM;
	op->rm_veth = true;
	memcpy(op->host, e->host, sizeof(op->host));
	memcpy(op->peer, e->peer, sizeof(op->peer));
	remove_ep_at(d, idx);
	op->ep = e;
	op->idx = idx;
	/* Its published ports and address protection go. */
	if ((r = stage_state(d, op, true, err, errlen)) < 0 ||
	    (r = stage_fw(d, op)) < 0) {
		/* remove_ep_at left room. */
		memmove(&d->st.eps[idx + 1], &d->st.eps[idx],
		    (d->st.neps - idx) * sizeof(*d->st.eps));
		d->st.eps[idx] = e;
		d->st.neps++;
		op_free(op);
		return r;
	}
	return run_op(d, op, err, errlen);
}

static int
finish_delete_ep(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	int r;

	/* The links are there still, or gone with the state unsaved: keep
	 * the record, where it was, so a retry or the network's removal
	 * cleans up.  remove_ep_at left room. */
	if ((r = op_error(op, err, errlen)) < 0 && op_failed(op)) {
		memmove(&d->st.eps[op->idx + 1], &d->st.eps[op->idx],
		    (d->st.neps - op->idx) * sizeof(*d->st.eps));
		d->st.eps[op->idx] = op->ep;
		d->st.neps++;
		op->ep = NULL;
		return r;
	}
	state_written(d, op);
	release_ports(d, op->ep);
	ep_cfg_free(op->ep);
	op->ep = NULL;
	log_fw_failure(op);
	return 0;
}

static int
get_joinable(struct drv *d, const char *net_id, const char *ep_id,
    const struct net_cfg **ret_n, struct ep_cfg **ret_e, char *err,
    size_t errlen)
{
	*ret_n = find_net(d, net_id, NULL);
	*ret_e = find_ep(d, net_id, ep_id, NULL);
	if (*ret_n == NULL || *ret_e == NULL) {
		ERR("endpoint %s not found on network %.12s", ep_id, net_id);
		return -ENOENT;
	}
	return 0;
}

int
drv_join(struct drv *d, const char *net_id, const char *ep_id,
    const char *sandbox, struct drv_join *ret, char *err, size_t errlen)
{
	const struct net_cfg *n;
	struct drv_op *op;
	struct ep_cfg *e;
	int r;

	if ((r = get_joinable(d, net_id, ep_id, &n, &e, err, errlen)) < 0)
		return r;
	if (strlen(sandbox) > ST_SANDBOX_MAX) {
		ERR("SandboxKey is too long");
		return -EINVAL;
	}
	if ((op = op_new(d, OP_JOIN, "a join")) == NULL)
		return -ENOMEM;
	op->ep = e;
	ep_save(e, &op->old_ep);
	e->joined = true;
	memcpy(e->sandbox, sandbox, strlen(sandbox) + 1);
	if ((r = stage_state(d, op, true, err, errlen)) < 0 ||
	    (r = stage_fw(d, op)) < 0) {
		ep_restore(e, &op->old_ep);
		op_free(op);
		return r;
	}
	drv_build_join(n, e, ret);
	return run_op(d, op, err, errlen);
}

/* A join or leave: undone by putting the endpoint back as it was. */
static int
finish_join(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	if (op->save_r < 0) {
		ERR("%s", op->save_err);
		ep_restore(op->ep, &op->old_ep);
		return op->save_r;
	}
	state_written(d, op);
	log_fw_failure(op);
	return 0;
}

int
drv_leave(struct drv *d, const char *net_id, const char *ep_id, char *err,
    size_t errlen)
{
	const struct net_cfg *n;
	struct drv_op *op;
	struct ep_cfg *e;
	int r;

	if ((r = get_joinable(d, net_id, ep_id, &n, &e, err, errlen)) < 0)
		return r;
	if ((op = op_new(d, OP_LEAVE, "a leave")) == NULL)
		return -ENOMEM;
	op->ep = e;
	ep_save(e, &op->old_ep);
	e->joined = false;
	e->sandbox[0] = '\0';
	if ((r = stage_state(d, op, true, err, errlen)) < 0) {
		ep_restore(e, &op->old_ep);
		op_free(op);
		return r;
	}
	return run_op(d, op, err, errlen);
}

/* Closes the host port reservations of e (the rules go with the next
 * firewall sync). */
static void
release_ports(struct drv *d, struct ep_cfg *e)
{
	for (size_t i = 0; i < e->nports; i++) {
		struct fw_resv rv = { .fd = e->ports[i].fd,
		    .port = e->ports[i].host_port };

		if (d->ports != NULL && rv.fd >= 0)
			d->ports->ops->release(d->ports, &rv);
		e->ports[i].fd = -1;
	}
}

static void
release_list(struct drv *d, struct ep_port *v, size_t n)
{
	struct ep_cfg tmp = { .ports = v, .nports = n };

	release_ports(d, &tmp);
}

/* Routed mode maps no host port: Docker ignores the host address and
 * port of a binding there ("Host port ignored, because NAT is disabled")
 * and only opens the container's port, so there is nothing to reserve
 * and no NAT'd flow to flush. */
static bool
maps_host_port(const struct net_cfg *n, int family)
{
	return (family == AF_INET ? n->opts.gw_mode_ipv4 :
	    n->opts.gw_mode_ipv6) != GW_MODE_ROUTED;
}

/* Reserves the host port of one binding for one family; lo..hi is the
 * range asked for (0..0 any). */
static int
reserve_one(struct drv *d, const struct drv_port_req *rq, int family,
    const struct prefix *host_ip, unsigned short lo, unsigned short hi,
    struct ep_port *ret, char *err, size_t errlen)
{
	struct fw_resv rv = { .fd = -1 };
	int r;

	r = d->ports->ops->reserve(d->ports, family, rq->proto, host_ip, lo, hi,
	    &rv, err, errlen);
	if (r < 0)
		return r;
	*ret = (struct ep_port){ .proto = rq->proto, .family = family,
	    .has_host_ip = host_ip != NULL, .host_port = rv.port,
	    .cport = rq->cport, .fd = rv.fd };
	if (host_ip != NULL)
		ret->host_ip = *host_ip;
	return 0;
}

/* The bindings of ports[] for endpoint e of network n, host ports
 * reserved, into *ret (malloc'ed). */
static int
reserve_all(struct drv *d, const struct net_cfg *n, const struct ep_cfg *e,
    const struct drv_port_req *ports, size_t np, struct ep_port **ret,
    size_t *ret_n, char *err, size_t errlen)
{
	struct ep_port *v;
	size_t nv = 0;
	int r = 0;

	if ((v = calloc(2 * np + 1, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < np; i++) {
		const struct drv_port_req *rq = &ports[i];
		const struct prefix *hip = rq->has_host_ip ? &rq->host_ip : NULL;
		unsigned short lo = rq->hport, hi = rq->hport_end;
		int fams[2], nf = 0;

		if (hip == NULL && n->opts.has_host_binding)
			hip = &n->opts.host_binding;
		/* An unspecified address of a family counts as "any". */
		if (hip != NULL && prefix_is_masked(hip) && hip->plen == 0)
			hip = NULL;
		if (hip != NULL)
			fams[nf++] = hip->family;
		else {
			if (e->has_addr4)
				fams[nf++] = AF_INET;
			if (e->has_addr6)
				fams[nf++] = AF_INET6;
		}
		for (int f = 0; f < nf; f++) {
			bool has = fams[f] == AF_INET ? e->has_addr4 :
			    e->has_addr6;

			if (!has) {
				ERR("cannot publish %u/%s on an IPv%d host "
				    "address: the container has no IPv%d "
				    "address on network %.12s", rq->cport,
				    fw_proto_name(rq->proto),
				    fams[f] == AF_INET ? 4 : 6,
				    fams[f] == AF_INET ? 4 : 6, n->id);
				r = -EINVAL;
				goto fail;
			}
			if (!maps_host_port(n, fams[f])) {
				/* The state wants a port: the one the
				 * binding is reached at. */
				v[nv++] = (struct ep_port){ .proto = rq->proto,
				    .family = fams[f], .host_port = rq->cport,
				    .cport = rq->cport, .fd = -1 };
				continue;
			}
			if ((r = reserve_one(d, rq, fams[f], hip, lo, hi,
			    &v[nv], err, errlen)) < 0)
				goto fail;
			/* Both families of one binding share its port. */
			lo = hi = v[nv].host_port;
			nv++;
		}
	}
	*ret = v;
	*ret_n = nv;
	return 0;
fail:
	release_list(d, v, nv);
	free(v);
	return r;
}

/* Re-takes the reservations of e's ports after a restart or a failed
 * change; a port someone else took meanwhile is logged. */
static void
rereserve(struct drv *d, struct ep_cfg *e)
{
	const struct net_cfg *n = find_net(d, e->net_id, NULL);
	char err[256];

	for (size_t i = 0; i < e->nports; i++) {
		struct ep_port *p = &e->ports[i];
		struct fw_resv rv = { .fd = -1 };

		if (d->ports == NULL || p->fd >= 0 ||
		    (n != NULL && !maps_host_port(n, p->family)))
			continue;
		if (d->ports->ops->reserve(d->ports, p->family, p->proto,
		    p->has_host_ip ? &p->host_ip : NULL, p->host_port, p->host_port, &rv, err, sizeof(err)) < 0)
			log_error("endpoint %.12s: %s; the port stays "
			    "published", e->id, err);
		else
			p->fd = rv.fd;
	}
}

/* A UDP flow the kernel saw before the port was published would keep
 * going to the host instead of the container: the job flushes them once
 * the rules are in. */
static int
stage_ct(const struct net_cfg *net, const struct ep_cfg *e,
    struct fw_job *job)
{
	struct fw_ct_port *ct;
	size_t n = 0;

	if ((ct = calloc(e->nports + 1, sizeof(*ct))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < e->nports; i++)
		if (e->ports[i].proto == IPPROTO_UDP &&
		    maps_host_port(net, e->ports[i].family))
			ct[n++] = (struct fw_ct_port){ e->ports[i].family,
			    e->ports[i].host_port };
	free((void *)job->ct);
	job->ct = ct;
	job->nct = n;
	return 0;
}

int
drv_program_external(struct drv *d, const char *net_id, const char *ep_id,
    const struct drv_port_req *ports, size_t np, char *err, size_t errlen)
{
	const struct net_cfg *n;
	struct ep_cfg *e;
	struct ep_port *nv = NULL;
	struct drv_op *op;
	size_t nnv = 0;
	int r;

	if ((r = get_joinable(d, net_id, ep_id, &n, &e, err, errlen)) < 0)
		return r;
	if (np > DRV_MAX_PORTS) {
		ERR("too many published ports (at most %d per container)",
		    DRV_MAX_PORTS);
		return -E2BIG;
	}
	if (np == 0 && e->nports == 0)
		return 0;
	if (np > 0 && n->opts.internal) {
		ERR("network %.12s is internal: it cannot publish ports",
		    n->id);
		return -EINVAL;
	}
	if (np > 0 && (d->fw == NULL || d->ports == NULL)) {
		ERR("cbridge runs without a firewall: it cannot publish ports");
		return -ENOTSUP;
	}
	if ((op = op_new(d, OP_PORTS, "a port publication")) == NULL)
		return -ENOMEM;
	/* A new programming replaces the old one, which may hold the very
	 * ports asked for again. */
	release_ports(d, e);
	if (np > 0 && (r = reserve_all(d, n, e, ports, np, &nv, &nnv, err,
	    errlen)) < 0)
		goto undo;
	op->ep = e;
	op->ports = e->ports;
	op->nports = e->nports;
	e->ports = nv;
	e->nports = nnv;
	ep_cfg_changed(e);
	if ((r = stage_state(d, op, true, err, errlen)) < 0 ||
	    (r = stage_fw(d, op)) < 0 || (r = stage_ct(n, e, &op->job)) < 0) {
		op->save_r = r;
		(void) snprintf(op->save_err, sizeof(op->save_err), "%s", err);
		(void) finish_ports(d, op, err, errlen);
		op_free(op);
		return r;
	}
	return run_op(d, op, err, errlen);
undo:
	op_free(op);
	rereserve(d, e);
	run_background(d, "a failed port publication", false);
	return r;
}

/* Ports stay published only if both the state and the rules took them;
 * otherwise the endpoint gets its old ports back, in the file too. */
static int
finish_ports(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	struct ep_cfg *e = op->ep;
	int r;

	if ((r = op_error(op, err, errlen)) == 0) {
		state_written(d, op);
		free(op->ports);
		op->ports = NULL;
		return 0;
	}
	release_list(d, e->ports, e->nports);
	free(e->ports);
	e->ports = op->ports;
	e->nports = op->nports;
	op->ports = NULL;
	ep_cfg_changed(e);
	rereserve(d, e);
	/* The file may hold the new ports already. */
	run_background(d, "a failed port publication", op->save_r == 0);
	return r;
}

int
drv_revoke_external(struct drv *d, const char *net_id, const char *ep_id,
    char *err, size_t errlen)
{
	return drv_program_external(d, net_id, ep_id, NULL, 0, err, errlen);
}

const struct ep_cfg *
drv_endpoint_get(const struct drv *d, const char *net_id, const char *ep_id)
{
	return find_ep(d, net_id, ep_id, NULL);
}

size_t
drv_endpoint_count(const struct drv *d)
{
	return d->st.neps;
}

const struct ep_cfg *
drv_endpoint_at(const struct drv *d, size_t i)
{
	return i < d->st.neps ? d->st.eps[i] : NULL;
}

unsigned long
drv_generation(const struct drv *d)
{
	return d->gen;
}

/* Host prefixes an automatic pool must avoid, masked. */
static int
host_avoid(struct drv *d, struct prefix **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	struct prefix *p = NULL;
	size_t n = 0;
	int r;

	r = d->lnk->ops->host_prefixes(d->lnk, &p, &n);
	if (r < 0) {
		ERR("Failed to read the host's addresses and routes: %s",
		    strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n; i++)
		prefix_mask(&p[i]);
	*ret = p;
	*ret_n = n;
	return 0;
}

int
drv_request_pool(struct drv *d, const char *space, const struct prefix *pool,
    const struct prefix *subpool, bool v6, char *ret_id,
    struct prefix *ret_pool, char *err, size_t errlen)
{
	struct ipam_pool_req req = { .space = space, .pool = pool,
	    .subpool = subpool, .v6 = v6 };
	struct prefix *avoid = NULL, out_pool;
	char id[IPAM_ID_MAX], ignore[256];
	struct drv_op *op;
	int r;

	if (pool == NULL) {
		r = host_avoid(d, &avoid, &req.navoid, err, errlen);
		if (r < 0)
			return r;
		req.avoid = avoid;
	}
	r = ipam_request_pool(d->ipam, &req, id, &out_pool, err, errlen);
	free(avoid);
	if (r < 0)
		return r;
	if ((op = op_new(d, OP_REQUEST_POOL, "a pool request")) == NULL ||
	    (r = stage_state(d, op, true, err, errlen)) < 0) {
		(void) ipam_release_pool(d->ipam, id, ignore, sizeof(ignore));
		op_free(op);
		return op == NULL ? -ENOMEM : r;
	}
	memcpy(op->pool_id, id, sizeof(id));
	memcpy(ret_id, id, sizeof(id));
	*ret_pool = out_pool;
	return run_op(d, op, err, errlen);
}

/* The IPAM change saved, or undone. */
static int
finish_ipam(struct drv *d, struct drv_op *op, char *err, size_t errlen)
{
	char ignore[256];

	if (op->save_r < 0) {
		ERR("%s", op->save_err);
		if (op->kind == OP_REQUEST_POOL)
			(void) ipam_release_pool(d->ipam, op->pool_id, ignore,
			    sizeof(ignore));
		else
			rollback_ipam(d);
		return op->save_r;
	}
	state_written(d, op);
	return 0;
}

/* Saves an IPAM change already made in memory. */
static int
save_ipam(struct drv *d, const char *what, char *err, size_t errlen)
{
	struct drv_op *op = op_new(d, OP_IPAM, what);
	int r;

	if (op == NULL) {
		rollback_ipam(d);
		return -ENOMEM;
	}
	if ((r = stage_state(d, op, true, err, errlen)) < 0) {
		rollback_ipam(d);
		op_free(op);
		return r;
	}
	return run_op(d, op, err, errlen);
}

int
drv_release_pool(struct drv *d, const char *id, char *err, size_t errlen)
{
	int r;

	r = ipam_release_pool(d->ipam, id, err, errlen);
	if (r < 0)
		return r;
	return save_ipam(d, "a pool release", err, errlen);
}

int
drv_request_address(struct drv *d, const char *pool_id,
    const struct prefix *want, bool gateway, struct prefix *ret, char *err,
    size_t errlen)
{
	struct prefix a;
	int r;

	r = ipam_request_address(d->ipam, pool_id, want, gateway, &a, err,
	    errlen);
	if (r < 0)
		return r;
	*ret = a;
	return save_ipam(d, "an address request", err, errlen);
}

int
drv_release_address(struct drv *d, const char *pool_id,
    const struct prefix *addr, char *err, size_t errlen)
{
	int r;

	r = ipam_release_address(d->ipam, pool_id, addr, err, errlen);
	if (r < 0)
		return r;
	return save_ipam(d, "an address release", err, errlen);
}

/* Re-creates or repairs the bridges of persisted networks. */
static void
reconcile(struct drv *d)
{
	struct lnk_bridge_cfg bc;
	struct fw_job job = { 0 };
	struct drv_op *op;
	char err[256];
	int r;

	for (size_t i = 0; i < d->st.nnets; i++) {
		const struct net_cfg *n = d->st.nets[i];

		bridge_cfg(n, &bc);
		r = d->lnk->ops->bridge_ensure(d->lnk, &bc, err, sizeof(err));
		if (r == -ENOENT) {
			if (fill_random(bc.mac, sizeof(bc.mac)) < 0)
				continue;
			bc.mac[0] = (unsigned char)((bc.mac[0] & 0xfe) | 0x02);
			r = d->lnk->ops->bridge_create(d->lnk, &bc, err,
			    sizeof(err));
			if (r == 0)
				log_info("network %.12s: re-created bridge '%s'",
				    n->id, n->bridge);
		}
		if (r < 0)
			log_error("network %.12s: Failed to restore bridge "
			    "'%s': %s", n->id, n->bridge, err);
		else if ((r = host_sysctls(d, n, &job, err, sizeof(err))) < 0)
			log_error("network %.12s: %s", n->id, err);
	}
	for (size_t i = 0; i < d->st.neps; i++)
		rereserve(d, d->st.eps[i]);
	op = op_new(d, OP_BACKGROUND, "start");
	if (op == NULL || stage_fw(d, op) < 0) {
		log_error("Failed to update firewall rules at start: out of "
		    "memory");
		op_free(op);
		return;
	}
	op->job.drop4 = job.drop4;
	op->job.drop6 = job.drop6;
	(void) run_op(d, op, err, sizeof(err));
}

/* A random fdXX:XXXX:XXXX::/48 (RFC 4193), chosen once per host. */
static int
make_ula(struct prefix *ret)
{
	struct prefix p = { .family = AF_INET6, .plen = 48 };
	int r;

	r = fill_random(p.addr + 1, 5);
	if (r < 0)
		return r;
	p.addr[0] = 0xfd;
	*ret = p;
	return 0;
}

int
drv_new(const struct drv_params *params, struct drv **ret, char *err,
    size_t errlen)
{
	struct st_doc doc = { 0 };
	struct ipam_default_pool ula_pool;
	struct drv *d;
	bool have_v6 = false;
	int r = -ENOMEM;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->lnk = params->lnk;
	d->wlnk = params->worker_lnk != NULL ? params->worker_lnk :
	    params->lnk;
	d->fw = params->fw;
	d->ports = params->ports;
	d->fw_backend = params->fw_backend;
	(void) snprintf(d->fw_why, sizeof(d->fw_why), "%s",
	    params->fw_why != NULL ? params->fw_why : "");
	d->state_dir = strdup(params->state_dir);
	d->ipam = ipam_new();
	if (d->state_dir == NULL || d->ipam == NULL)
		goto fail;
	if ((d->work = loop_work_new(params->loop, err, errlen)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (params->npools > 0) {
		r = ipam_set_default_pools(d->ipam, params->pools,
		    params->npools, err, errlen);
		if (r < 0)
			goto fail;
		for (size_t i = 0; i < params->npools; i++)
			have_v6 |= params->pools[i].base.family == AF_INET6;
	}
	r = st_load(d->state_dir, d->ipam, &doc, err, errlen);
	if (r < 0)
		goto fail;
	if (!doc.has_ula) {
		if ((r = make_ula(&doc.ula)) < 0) {
			ERR("Failed to generate an IPv6 ULA prefix");
			goto fail;
		}
		doc.has_ula = true;
	}
	if (!have_v6) {
		ula_pool = (struct ipam_default_pool){ .base = doc.ula,
		    .size = 64 };
		r = ipam_set_default_pools(d->ipam, &ula_pool, 1, err, errlen);
		if (r < 0)
			goto fail;
	}
	d->st = doc;
	doc = (struct st_doc){ 0 };
	r = save(d, err, errlen);
	if (r < 0)
		goto fail;
	reconcile(d);
	*ret = d;
	return 0;
fail:
	st_doc_done(&doc);
	drv_free(d);
	return r;
}

void
drv_set_done(struct drv *d, drv_done_fn *fn, void *arg)
{
	d->done = fn;
	d->done_arg = arg;
}

void
drv_set_changed(struct drv *d, drv_change_fn *fn, void *arg)
{
	d->changed = fn;
	d->changed_arg = arg;
}

bool
drv_busy(const struct drv *d)
{
	return d->busy;
}

void
drv_drain(struct drv *d)
{
	char err[128];

	loop_work_free(d->work);
	/* Anything asked from now on runs here and now. */
	d->work = loop_work_new(NULL, err, sizeof(err));
}

const struct drv_fw_status *
drv_fw_status(const struct drv *d)
{
	return &d->fwst;
}

/* A network's index, found by ID in an array sorted by ID. */
struct net_index {
	const char	*id;
	size_t		idx;
};

static int
net_index_cmp(const void *a, const void *b)
{
	return strcmp(((const struct net_index *)a)->id,
	    ((const struct net_index *)b)->id);
}

int
drv_status(const struct drv *d, struct drv_status *ret)
{
	struct drv_status s = { .fw_backend = d->fw == NULL ? "none" :
	    fw_backend_name(d->fw_backend), .fw_why = d->fw_why,
	    .fw = d->fwst };
	struct net_index *byid = NULL;
	size_t n = d->st.nnets;

	if (n > 0 && ((s.nets = calloc(n, sizeof(*s.nets))) == NULL ||
	    (byid = calloc(n, sizeof(*byid))) == NULL)) {
		free(s.nets);
		return -ENOMEM;
	}
	s.nnets = n;
	for (size_t i = 0; i < n; i++) {
		const struct net_cfg *c = d->st.nets[i];
		struct drv_net_status *ns = &s.nets[i];

		*ns = (struct drv_net_status){ .id = c->id,
		    .bridge = c->bridge, .has_v4 = c->has_v4,
		    .has_v6 = c->has_v6, .internal = c->opts.internal,
		    .icc = c->opts.enable_icc,
		    .masquerade = c->opts.enable_ip_masquerade };
		if (c->has_v4)
			ns->subnet4 = c->pool4;
		if (c->has_v6)
			ns->subnet6 = c->pool6;
		byid[i] = (struct net_index){ .id = c->id, .idx = i };
	}
	/* Up to DRV_MAX_ENDPOINTS endpoints on DRV_MAX_NETWORKS networks:
	 * each finds its network by binary search. */
	if (n > 1)
		qsort(byid, n, sizeof(*byid), net_index_cmp);
	for (size_t i = 0; i < d->st.neps && n > 0; i++) {
		const struct ep_cfg *e = d->st.eps[i];
		struct net_index key = { .id = e->net_id };
		const struct net_index *f = bsearch(&key, byid, n,
		    sizeof(*byid), net_index_cmp);

		if (f == NULL)
			continue;
		s.nets[f->idx].endpoints++;
		s.nets[f->idx].ports += e->nports;
	}
	free(byid);
	*ret = s;
	return 0;
}

void
drv_status_done(struct drv_status *s)
{
	if (s == NULL)
		return;
	free(s->nets);
	s->nets = NULL;
	s->nnets = 0;
}

struct drv *
drv_free(struct drv *d)
{
	if (d == NULL)
		return NULL;
	loop_work_free(d->work);
	for (size_t i = 0; i < d->st.neps; i++)
		release_ports(d, d->st.eps[i]);
	st_doc_done(&d->st);
	ipam_free(d->ipam);
	free(d->state_dir);
	free(d->saved);
	free(d);
	return NULL;
}

void
drv_tick(struct drv *d)
{
	struct drv_op *op;
	char err[256];

	/* Stale rules of ours are removed at start and at every change;
	 * with no network there is nothing to watch.  A check waits for
	 * the worker to be idle: every change syncs the rules anyway. */
	if (d->st.nnets == 0 || d->fw == NULL || d->busy ||
	    loop_work_pending(d->work) > 0)
		return;
	if ((op = op_new(d, OP_BACKGROUND, "the periodic check")) == NULL ||
	    stage_fw(d, op) < 0) {
		op_free(op);
		return;
	}
	op->tick = true;
	op->job.model.verify = true;
	(void) run_op(d, op, err, sizeof(err));
}

static int
finish_background(struct drv *d, struct drv_op *op)
{
	if (op->state != NULL) {
		if (op->save_r < 0) {
			log_error("Failed to save state: %s", op->save_err);
			return op->save_r;
		}
		state_written(d, op);
	}
	if (!op->tick) {
		log_fw_failure(op);
		return op->fw.r;
	}
	if (op->fw.r == 0) {
		if (d->tick_err[0] != '\0')
			log_info("Firewall rules are in place again");
		d->tick_err[0] = '\0';
		return 0;
	}
	/* Once per distinct failure, not once a second. */
	if (strncmp(op->fw.err, d->tick_err, sizeof(d->tick_err) - 1) != 0)
		log_error("Failed to restore firewall rules: %s", op->fw.err);
	(void) snprintf(d->tick_err, sizeof(d->tick_err), "%.255s",
	    op->fw.err);
	return op->fw.r;
}

static int
op_finish(struct drv_op *op, char *err, size_t errlen)
{
	struct drv *d = op->d;

	note_fw(d, op);
	switch (op->kind) {
	case OP_CREATE_NET:	return finish_create_net(d, op, err, errlen);
	case OP_DELETE_NET:	return finish_delete_net(d, op, err, errlen);
	case OP_CREATE_EP:	return finish_create_ep(d, op, err, errlen);
	case OP_DELETE_EP:	return finish_delete_ep(d, op, err, errlen);
	case OP_JOIN:
	case OP_LEAVE:		return finish_join(d, op, err, errlen);
	case OP_PORTS:		return finish_ports(d, op, err, errlen);
	case OP_IPAM:
	case OP_REQUEST_POOL:	return finish_ipam(d, op, err, errlen);
	case OP_BACKGROUND:	return finish_background(d, op);
	}
	return -EINVAL;
}

size_t
drv_network_count(const struct drv *d)
{
	return d->st.nnets;
}

const struct net_cfg *
drv_network_get(const struct drv *d, const char *id)
{
	return find_net(d, id, NULL);
}

const struct ipam *
drv_ipam(const struct drv *d)
{
	return d->ipam;
}

int
drv_encode_state(struct drv *d, bool fresh, char **ret, size_t *ret_len,
    char *err, size_t errlen)
{
	if (fresh)
		st_drop_cache(&d->st, d->ipam);
	return st_encode(&d->st, d->ipam, ret, ret_len, err, errlen);
}
