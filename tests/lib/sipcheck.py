"""Check a SIP reject frame against the request frame it answers
(RFC 3261 §8.2.6 and §18.2.2, RFC 3581), independently of the C code."""
import ipaddress
import re

import netpkt


def top_via_dest(via_value, src, sport, ip_version):
    """(address bytes, port) a response to this request goes to."""
    first = via_value.split(",")[0]
    parts = [p.strip() for p in first.split(";")]
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*\w+\s+(\[[^\]]+\]|[^:\s]+)\s*(?::\s*(\d+))?", parts[0], re.I)
    assert m, f"bad top Via {via_value!r}"
    sent_port = int(m.group(2)) if m.group(2) else 5060
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip()
    addr = src
    if params.get("received"):
        try:
            a = ipaddress.ip_address(params["received"].strip("[]"))
            if a.version == ip_version:
                addr = a.packed
        except ValueError:
            pass
    if "rport" in params:
        port = int(params["rport"]) if params["rport"] else sport
    else:
        port = sent_port
    return addr, port


def request_sip(frames):
    """The SIP bytes of a request given as its parsed frame(s)."""
    if frames[0].frag_key is None:
        return frames[0].payload
    l4 = netpkt.reassemble(frames)
    ulen = int.from_bytes(l4[4:6], "big")
    return l4[8:ulen]


def check_reject(req_frames, resp_raw, code, mtu=1500):
    """Raise AssertionError naming what is wrong with resp_raw as the reject
    (status code) of the request whose parsed frames are req_frames.
    resp_raw is one frame, or a list of the IP fragments of one (each at
    most mtu bytes of IP, checked by netpkt.defragment)."""
    fragmented = isinstance(resp_raw, list)
    if fragmented:
        resp_raw = netpkt.defragment(resp_raw, mtu)
    req = req_frames[0]
    if req.frag_key is None:
        sport, dport = req.sport, req.dport
    else:
        l4 = netpkt.reassemble(req_frames)
        sport, dport = int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big")
    resp = netpkt.parse(resp_raw)
    sip = request_sip(req_frames)
    _, rh, _ = netpkt.sip_headers(sip)
    start, sh, body = netpkt.sip_headers(resp.payload)
    cid = netpkt.hdr(rh, "call-id")[0]

    def ok(cond, what):
        assert cond, f"reject for Call-ID {cid}: {what}"

    ok(resp.l2[0:6] == req.l2[6:12] and resp.l2[6:12] == req.l2[0:6], "MACs not swapped")
    ok(resp.l2[12:] == req.l2[12:], "VLAN tags / ethertype differ from the request")
    ok(resp.ip_version == req.ip_version and resp.proto == 17, "not UDP over the same IP version")
    ok(resp.frag_key is None, "reject is fragmented")
    ok(fragmented or len(resp_raw) - len(resp.l2) <= mtu,
       f"reject of {len(resp_raw) - len(resp.l2)} IP bytes in one frame, MTU {mtu}")
    ok(netpkt.ip4_header_ok(resp), "bad IPv4 header checksum")
    ok(netpkt.udp_checksum_ok(resp), "bad UDP checksum")
    addr, port = top_via_dest(netpkt.hdr(rh, "via")[0], req.src, sport, req.ip_version)
    ok(resp.src == req.dst, "source address is not the request's destination")
    ok(resp.dst == addr, f"destination {resp.dst.hex()} is not {addr.hex()}")
    ok(resp.sport == dport, "source port is not the request's destination port")
    ok(resp.dport == port, f"destination port {resp.dport} is not {port}")
    ok(re.match(rf"SIP/2\.0 {code} \S", start), f"status line {start!r}, wanted {code}")
    ok(netpkt.hdr(sh, "via") == netpkt.hdr(rh, "via"), "Via headers not copied in order")
    ok(netpkt.hdr(sh, "from") == netpkt.hdr(rh, "from")[:1], "From not copied")
    ok(netpkt.hdr(sh, "call-id") == [cid], "Call-ID not copied")
    ok(netpkt.hdr(sh, "cseq") == netpkt.hdr(rh, "cseq")[:1], "CSeq not copied")
    req_to = netpkt.hdr(rh, "to")[0]
    to = netpkt.hdr(sh, "to")
    ok(len(to) == 1, "not exactly one To")
    if netpkt.header_param(req_to, "tag"):
        ok(to[0] == req_to, "To with a tag not copied as is")
    else:
        ok(to[0].startswith(req_to + ";tag=") and
           re.fullmatch(r"[0-9a-f]{16}", netpkt.header_param(to[0], "tag") or ""),
           f"To {to[0]!r} is not the request's To plus a tag")
    reason = netpkt.hdr(sh, "reason")
    ok(len(reason) == 1 and f"cause={code}" in reason[0], f"Reason header {reason!r}")
    ok(netpkt.hdr(sh, "content-length") == ["0"] and body == "", "Content-Length is not 0")
    return resp
