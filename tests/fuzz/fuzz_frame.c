/* libFuzzer harness for the frame parser, the first code every received
 * frame meets: frame_parse() over arbitrary bytes in an exactly-sized
 * buffer, and sip_scan() over the payload it points at.  Every offset it
 * returns must lie inside the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_config cfg;
	struct frame_info fi;
	struct sip_msg msg;
	uint8_t *pkt = malloc(size ? size : 1);

	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	frame_config_default(&cfg);
	if (frame_parse(&cfg, pkt, size, &fi) == 0 &&
	    (fi.kind == FRAME_SIP_UDP || fi.kind == FRAME_SIP_TCP)) {
		if ((size_t)fi.payload_offset + fi.payload_len > size)
			abort();
		sip_scan((const char *)pkt + fi.payload_offset, fi.payload_len, &msg);
		if (msg.n_uris > SIP_MAX_URIS || msg.n_via > SIP_MAX_VIA)
			abort();
	}
	free(pkt);
	return 0;
}
