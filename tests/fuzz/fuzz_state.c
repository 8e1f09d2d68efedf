/*
 * The state loader: st_decode() on the input with a fresh IPAM.  A
 * document it accepts must survive the trip the daemon makes with it:
 * st_encode, st_decode again, st_encode again, same bytes.  A refused one
 * leaves the IPAM empty and says why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin/ipam.h"
#include "plugin/state.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc, (void) argv;
	fuzz_keep_stderr();
	json_object_seed(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam *ip, *ip2 = NULL;
	struct st_doc doc = { 0 }, doc2 = { 0 };
	char err[512] = "", *enc = NULL, *enc2 = NULL;
	size_t len, len2;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if ((ip = ipam_new()) == NULL)
		return 0;
	r = st_decode((const char *)data, size, ip, &doc, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM, "st_decode: %d", r);
		FUZZ_CHECK(err[0] != '\0', "st_decode failed without a message");
		FUZZ_CHECK(ipam_pool_count(ip) == 0,
		    "st_decode failed but loaded %zu pools",
		    ipam_pool_count(ip));
		FUZZ_CHECK(doc.nnets == 0 && doc.neps == 0 && doc.nets == NULL,
		    "st_decode failed but returned a document");
		goto out;
	}
	for (size_t i = 0; i < doc.nnets; i++)
		FUZZ_CHECK(net_valid_id(doc.nets[i]->id) &&
		    doc.nets[i]->bridge[0] != '\0', "network %zu", i);
	for (size_t i = 0; i < doc.neps; i++)
		FUZZ_CHECK(net_valid_id(doc.eps[i]->id) &&
		    net_valid_id(doc.eps[i]->net_id), "endpoint %zu", i);

	r = st_encode(&doc, ip, &enc, &len, err, sizeof(err));
	FUZZ_CHECK(r == 0, "st_encode of a loaded state: %d %s", r, err);
	FUZZ_CHECK(strlen(enc) == len, "st_encode length");
	if ((ip2 = ipam_new()) == NULL)
		goto out;
	r = st_decode(enc, len, ip2, &doc2, err, sizeof(err));
	FUZZ_CHECK(r == 0, "a state written from a loaded one does not load: "
	    "%s", err);
	FUZZ_CHECK(doc2.nnets == doc.nnets && doc2.neps == doc.neps &&
	    doc2.has_ula == doc.has_ula && ipam_pool_count(ip2) ==
	    ipam_pool_count(ip), "round trip changed the counts");
	r = st_encode(&doc2, ip2, &enc2, &len2, err, sizeof(err));
	FUZZ_CHECK(r == 0, "second st_encode: %d %s", r, err);
	FUZZ_CHECK(len == len2 && memcmp(enc, enc2, len) == 0,
	    "state changes on a second round trip:\n%s\n---\n%s", enc, enc2);
out:
	free(enc);
	free(enc2);
	st_doc_done(&doc);
	st_doc_done(&doc2);
	ipam_free(ip);
	ipam_free(ip2);
	return 0;
}
