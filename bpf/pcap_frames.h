/* Frames of a pcap/pcapng file, for teishi-xdp's test-run.  Kept apart
 * because libpcap's <pcap/bpf.h> and the kernel's <linux/bpf.h> both
 * define struct bpf_insn and cannot share a translation unit. */
#ifndef TEISHI_PCAP_FRAMES_H
#define TEISHI_PCAP_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* Call fn for every frame of the Ethernet capture at path, in order; stop
 * when fn returns non-zero and return that.  Returns 0, or -1 with err
 * set ("path: reason"). */
int pcap_frames_each(const char *path, int (*fn)(void *ctx, const uint8_t *frame, uint32_t len),
		     void *ctx, char *err, size_t errlen);

#endif
