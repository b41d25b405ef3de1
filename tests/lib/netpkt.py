"""Frames for the integration tests, with the standard library only.

pcap read/write, a small Ethernet/VLAN/IPv4/IPv6/UDP/TCP parser, frame
builders (with IPv4 and IPv6 fragmentation), Internet checksums, and a SIP
header reader that knows compact forms and folding.  It is deliberately
independent of the C code it checks.
"""
import re
import struct

PCAP_MAGIC = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D


def read_pcap(path):
    """Return the frames of a classic pcap file as a list of bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (PCAP_MAGIC, PCAP_MAGIC_NS):
        end = "<"
    elif struct.unpack(">I", data[:4])[0] in (PCAP_MAGIC, PCAP_MAGIC_NS):
        end = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Frame:
    """What parse() found.  l2 is the Ethernet header with VLAN tags."""
    vlans = ()
    ip_version = 0
    src = dst = b""
    proto = None
    frag_key = None        # (version, src, dst, id) when a fragment
    frag_offset = 0
    frag_more = False
    frag_data = b""
    sport = dport = None
    payload = b""
    l2 = b""
    ip_header = b""
    l4 = b""               # the L4 header and payload (unfragmented)


def parse(fr):
    f = Frame()
    off, et = 12, struct.unpack("!H", fr[12:14])[0]
    vlans = []
    while et in (0x8100, 0x88A8):
        vlans.append(struct.unpack("!H", fr[off + 2:off + 4])[0] & 0x0FFF)
        off += 4
        et = struct.unpack("!H", fr[off:off + 2])[0]
    off += 2
    f.vlans, f.l2 = tuple(vlans), fr[:off]
    if et == 0x0800:
        f.ip_version = 4
        ihl = (fr[off] & 0x0F) * 4
        tot = struct.unpack("!H", fr[off + 2:off + 4])[0]
        ident, fl = struct.unpack("!HH", fr[off + 4:off + 8])
        f.proto = fr[off + 9]
        f.src, f.dst = fr[off + 12:off + 16], fr[off + 16:off + 20]
        f.ip_header = fr[off:off + ihl]
        body = fr[off + ihl:off + tot]
        if fl & 0x3FFF:
            f.frag_key = (4, f.src, f.dst, ident, f.proto)
            f.frag_offset, f.frag_more, f.frag_data = (fl & 0x1FFF) * 8, bool(fl & 0x2000), body
            return f
    elif et == 0x86DD:
        f.ip_version = 6
        plen = struct.unpack("!H", fr[off + 4:off + 6])[0]
        nh = fr[off + 6]
        f.src, f.dst = fr[off + 8:off + 24], fr[off + 24:off + 40]
        f.ip_header = fr[off:off + 40]
        p, end = off + 40, off + 40 + plen
        while nh in (0, 43, 60, 44):
            if nh == 44:
                fo, ident = struct.unpack("!HI", fr[p + 2:p + 8])
                f.proto = fr[p]
                f.frag_key = (6, f.src, f.dst, ident, f.proto)
                f.frag_offset, f.frag_more = fo & 0xFFF8, bool(fo & 1)
                f.frag_data = fr[p + 8:end]
                return f
            nh, p = fr[p], p + (fr[p + 1] + 1) * 8
        f.proto = nh
        body = fr[p:end]
    else:
        return f
    f.l4 = body
    if f.proto == 17 and len(body) >= 8:
        f.sport, f.dport, ulen = struct.unpack("!HHH", body[:6])
        f.payload = body[8:ulen]
    elif f.proto == 6 and len(body) >= 20:
        f.sport, f.dport = struct.unpack("!HH", body[:4])
        f.payload = body[(body[12] >> 4) * 4:]
    return f


def reassemble(frags):
    """The L4 bytes (UDP header included) of a list of parsed fragments."""
    buf = bytearray()
    for f in sorted(frags, key=lambda x: x.frag_offset):
        buf[f.frag_offset:f.frag_offset + len(f.frag_data)] = f.frag_data
    return bytes(buf)


def defragment(raws, mtu):
    """The one frame equivalent to the IP fragments raws (any order): same
    L2, a plain IP header, the reassembled L4 bytes.  Raises AssertionError
    naming what is wrong: fragments of different datagrams, L2 headers or
    IP versions, an IPv4 header checksum, an IP packet over mtu, a hole,
    an overlap, or no last fragment."""
    fs = [parse(r) for r in raws]
    f0 = fs[0]
    assert all(f.frag_key is not None for f in fs), "not all frames are fragments"
    assert len({f.frag_key for f in fs}) == 1, "fragments of different datagrams"
    assert all(f.l2 == f0.l2 for f in fs), "fragments with different L2 headers"
    for f, r in zip(fs, raws):
        assert len(r) - len(f.l2) <= mtu, f"fragment of {len(r) - len(f.l2)} IP bytes, MTU {mtu}"
        assert ip4_header_ok(f), "bad IPv4 header checksum on a fragment"
    end = 0
    for f in sorted(fs, key=lambda x: x.frag_offset):
        assert f.frag_offset == end, f"fragment at {f.frag_offset}, wanted {end} (hole or overlap)"
        end += len(f.frag_data)
        assert f.frag_more or end == sum(len(x.frag_data) for x in fs), "no last fragment"
    assert not max(fs, key=lambda x: x.frag_offset).frag_more, "no last fragment"
    l4 = reassemble(fs)
    if f0.ip_version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, f0.ip_header[1], 20 + len(l4), 0, 0, f0.ip_header[8],
                        f0.proto, 0, f0.src, f0.dst)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    else:
        h = struct.pack("!IHBB", struct.unpack("!I", f0.ip_header[:4])[0], len(l4), f0.proto,
                        f0.ip_header[7]) + f0.src + f0.dst
    return f0.l2 + h + l4


def udp_checksum_ok(f):
    """Verify the UDP checksum of an unfragmented parsed frame."""
    udp = f.l4[:struct.unpack("!H", f.l4[4:6])[0]]
    if f.ip_version == 4:
        pseudo = f.src + f.dst + struct.pack("!BBH", 0, 17, len(udp))
    else:
        pseudo = f.src + f.dst + struct.pack("!IxxxB", len(udp), 17)
    return csum(pseudo + udp) == 0


def ip4_header_ok(f):
    return f.ip_version != 4 or csum(f.ip_header) == 0


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ether(dst, src, ethertype, vlans=()):
    """Ethernet header; vlans outer first; two tags make QinQ (0x88a8)."""
    h = mac(dst) + mac(src)
    for i, v in enumerate(vlans):
        tpid = 0x88A8 if len(vlans) == 2 and i == 0 else 0x8100
        h += struct.pack("!HH", tpid, v)
    return h + struct.pack("!H", ethertype)


def ip4(src, dst):
    return bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split("."))


def udp4_frames(l2, src, dst, sport, dport, payload, frag=0, ident=0x1234, ttl=64):
    """IPv4/UDP frames; frag > 0 splits the IP payload in pieces of frag
    bytes (a multiple of 8)."""
    s, d = ip4(src, dst)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(s + d + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    pieces = [(0, udp, False)]
    if frag:
        pieces = [(o, udp[o:o + frag], o + frag < len(udp)) for o in range(0, len(udp), frag)]
    out = []
    for o, data, more in pieces:
        fl = (0x2000 if more else 0) | (o // 8)
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, fl, ttl, 17, 0, s, d)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        out.append(l2 + h + data)
    return out


def raw_ip4_fragment(l2, src, dst, ident, offset, more, data, proto=17):
    """One hand-made IPv4 fragment (for overlap and conflict cases)."""
    s, d = ip4(src, dst)
    fl = (0x2000 if more else 0) | (offset // 8)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, fl, 64, proto, 0, s, d)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return l2 + h + data


def udp_bytes4(src, dst, sport, dport, payload):
    s, d = ip4(src, dst)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(s + d + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xFFFF
    return udp[:6] + struct.pack("!H", c) + udp[8:]


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type"}


def sip_headers(msg):
    """(start line, [(lower-case long name, unfolded value)], body) of a SIP
    message in bytes."""
    text = msg.decode("utf-8", "replace")
    # Line ends as lenient receivers (pjsip) and teishi read them: CRLF,
    # LF, or a CR that no LF follows.
    eol = r"(?:\r\n|\n|\r(?!\n))"
    m = re.search(eol + eol, text)
    head, body = (text[:m.start()], text[m.end():]) if m else (text, "")
    head = re.sub(eol + r"[ \t]+", " ", head)
    lines = re.split(eol, head)
    hdrs = []
    for ln in lines[1:]:
        if ":" not in ln:
            continue
        name, val = ln.split(":", 1)
        name = name.strip().lower()
        hdrs.append((COMPACT.get(name, name), val.strip()))
    return lines[0], hdrs, body


def hdr(hdrs, name):
    return [v for n, v in hdrs if n == name]


def header_param(value, name):
    """A header parameter of a From/To value (outside <> and quotes)."""
    depth, quoted, i = 0, False, 0
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            depth = 1
        elif c == ">":
            depth = 0
        elif c == ";" and depth == 0:
            for p in value[i + 1:].split(";"):
                k, _, v = p.partition("=")
                if k.strip().lower() == name:
                    return v.strip()
            return None
        i += 1
    return None
