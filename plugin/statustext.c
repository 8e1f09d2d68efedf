#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "plugin/statustext.h"

static json_int_t
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* s, or "-" when it is empty: a column is never blank. */
static const char *
dash(const char *s)
{
	return *s ? s : "-";
}

static void
print_sync(json_t *fw, FILE *out)
{
	json_t *last = json_object_get(fw, "LastSync");
	json_int_t us = num(last, "DurationUsec");

	if (us < 0)
		us = 0;
	if (!json_is_object(last)) {
		fprintf(out, "last sync: none since the start\n");
		return;
	}
	fprintf(out, "last sync: %s, took %lld.%03lld ms, %s%s\n",
	    dash(str(last, "Time")), us / 1000, us % 1000,
	    *str(last, "Error") ? "failed: " : "ok", str(last, "Error"));
	fprintf(out, "syncs since the start: %lld, %lld failed\n",
	    num(fw, "Syncs"), num(fw, "SyncFailures"));
}

/* "internal,icc,masquerade" as they are set: the options that change
 * what traffic the rules let through. */
static void
flags(json_t *n, char *buf, size_t len)
{
	(void) snprintf(buf, len, "%s%s,%s",
	    json_is_true(json_object_get(n, "Internal")) ? "internal," : "",
	    json_is_true(json_object_get(n, "ICC")) ? "icc" : "no-icc",
	    json_is_true(json_object_get(n, "Masquerade")) ? "masquerade" :
	    "no-masquerade");
}

void
statustext_print(json_t *doc, FILE *out)
{
	json_t *fw = json_object_get(doc, "Firewall");
	json_t *nets = json_object_get(doc, "Networks"), *n;
	char f[64];
	size_t i;

	fprintf(out, "firewall backend: %s%s%s%s\n", dash(str(fw, "Backend")),
	    *str(fw, "Why") ? " (" : "", str(fw, "Why"),
	    *str(fw, "Why") ? ")" : "");
	print_sync(fw, out);
	if (json_array_size(nets) == 0) {
		fprintf(out, "networks: none\n");
		return;
	}
	fprintf(out, "networks: %zu\n", json_array_size(nets));
	fprintf(out, "%-12s  %-15s  %-18s  %-24s  %9s  %5s  %s\n", "NETWORK",
	    "BRIDGE", "IPV4", "IPV6", "ENDPOINTS", "PORTS", "FLAGS");
	json_array_foreach(nets, i, n) {
		flags(n, f, sizeof(f));
		fprintf(out, "%-12.12s  %-15s  %-18s  %-24s  %9lld  %5lld  %s\n",
		    dash(str(n, "ID")), dash(str(n, "Bridge")),
		    dash(str(n, "IPv4Subnet")), dash(str(n, "IPv6Subnet")),
		    num(n, "Endpoints"), num(n, "Ports"), f);
	}
}
