/*
 * The nftables backend (being written).
 */
#include <errno.h>
#include <stddef.h>

#include "firewall/common.h"
#include "firewall/firewall.h"

struct fw *
fw_nft_new(char *err, size_t errlen)
{
	fw_seterr(err, errlen, "FIREWALL_BACKEND=nftables is not "
	    "implemented yet");
	return NULL;
}
