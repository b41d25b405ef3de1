/* The XDP side of teishi.  Today it classifies frames down to UDP on the
 * SIP port and counts them; every frame passes.  The suspension list is
 * here already (teishi_list, kept by the loader from a list file or
 * from Redis); reading the numbers of an INVITE and looking them up in
 * it, held to verdict.c by a differential test, is the XDP issue's
 * work. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "teishi_bpf.h"

/* Set by the loader before load (rodata). */
const volatile __u16 sip_port = 5060;

/* Per-CPU counters, one slot per enum teishi_xdp_counter; the loader sums
 * the CPUs on read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TEISHI_XDP__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} teishi_counters SEC(".maps");

/* The suspension list (teishi_bpf.h has the key layout).  The loader
 * sets max_entries (--max-entries) before load; LPM tries allocate per
 * entry, so the bound costs nothing until used. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct teishi_list_key);
	__type(value, struct teishi_list_val);
} teishi_list SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&teishi_counters, &c);

	if (v)
		*v += 1;
}

static __always_inline int classify_udp(void *l4, void *end)
{
	struct udphdr *udp = l4;

	if ((void *)(udp + 1) > end) {
		count(TEISHI_XDP_TRUNCATED);
		return XDP_PASS;
	}
	if (udp->dest == bpf_htons(sip_port) || udp->source == bpf_htons(sip_port))
		count(TEISHI_XDP_UDP_SIP);
	else
		count(TEISHI_XDP_OTHER_L4);
	return XDP_PASS;
}

SEC("xdp")
int teishi_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *l3;

	count(TEISHI_XDP_FRAMES);
	if ((void *)(eth + 1) > end) {
		count(TEISHI_XDP_TRUNCATED);
		return XDP_PASS;
	}
	proto = eth->h_proto;
	l3 = eth + 1;
	/* At most two tags (QinQ); bounded so the verifier sees the loop end. */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vh = l3;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end) {
			count(TEISHI_XDP_TRUNCATED);
			return XDP_PASS;
		}
		if (i == 0)
			count(TEISHI_XDP_VLAN);
		proto = vh->proto;
		l3 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end || ip->ihl < 5) {
			count(TEISHI_XDP_TRUNCATED);
			return XDP_PASS;
		}
		count(TEISHI_XDP_IPV4);
		if (ip->frag_off & bpf_htons(0x3fff)) {
			count(TEISHI_XDP_FRAGMENT);
			return XDP_PASS;
		}
		if (ip->protocol != IPPROTO_UDP) {
			count(TEISHI_XDP_OTHER_L4);
			return XDP_PASS;
		}
		return classify_udp((__u8 *)ip + ip->ihl * 4, end);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end) {
			count(TEISHI_XDP_TRUNCATED);
			return XDP_PASS;
		}
		count(TEISHI_XDP_IPV6);
		if (ip6->nexthdr != IPPROTO_UDP) {
			count(TEISHI_XDP_OTHER_L4);
			return XDP_PASS;
		}
		return classify_udp(ip6 + 1, end);
	}
	count(TEISHI_XDP_NOT_IP);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
