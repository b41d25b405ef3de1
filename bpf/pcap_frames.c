#include <stdio.h>

#include <pcap/pcap.h>

#include "pcap_frames.h"

int pcap_frames_each(const char *path, int (*fn)(void *ctx, const uint8_t *frame, uint32_t len),
		     void *ctx, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *pkt;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int rc, ret = 0;

	if (!p) {
		snprintf(err, errlen, "%s", errbuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: not an Ethernet capture", path);
		pcap_close(p);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &h, &pkt)) == 1) {
		ret = fn(ctx, pkt, h->caplen);
		if (ret != 0)
			break;
	}
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(p));
		ret = -1;
	}
	pcap_close(p);
	return ret;
}
